import ArgumentParser

/// The hidden `fuzz` subcommand in a fuzzing build (`-DFUZZING`), nothing otherwise: the one
/// hook `TestbedCommand` needs, kept here so that libFuzzer's driver stays out of the ordinary
/// build. The targets' harnesses are in every build: the tests replay the seeds through them.
var fuzzingSubcommands: [any ParsableCommand.Type] {
    #if FUZZING
    [FuzzCommand.self]
    #else
    []
    #endif
}

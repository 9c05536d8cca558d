import ArgumentParser

/// The hidden `fuzz` subcommand in a fuzzing build (`-DFUZZING`), nothing otherwise: the one
/// hook `TestbedCommand` needs, kept here so the fuzzing code stays out of the ordinary build.
var fuzzingSubcommands: [any ParsableCommand.Type] {
    #if FUZZING
    [FuzzCommand.self]
    #else
    []
    #endif
}

#if FUZZING
import ArgumentParser
import Foundation

/// libFuzzer's entry point when the program has its own `main`: parses libFuzzer's options from
/// `argv` and calls `callback` with each input until a crash or the time or run limit.
/// Declared by hand because libFuzzer ships no Swift module; linked from the toolchain's
/// `libclang_rt.fuzzer` by `-sanitize=fuzzer`.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// `testbed fuzz TARGET [libFuzzer options and corpus directories…]`: runs one fuzz target under
/// libFuzzer. Hidden, and compiled only into the fuzzing build (`-DFUZZING`,
/// `-sanitize=fuzzer`); `scripts/fuzz.sh` builds and runs it.
///
/// The targets live in the executable rather than in a separate fuzzing target because most of
/// the code under test (the JSON parser, the V2 tensor decoding, the predict body) is internal
/// to `TestbedServer`.
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Run a libFuzzer target (fuzzing builds only).",
        discussion: "Targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")). `testbed fuzz seeds DIR` writes generated seed inputs into DIR.",
        shouldDisplay: false
    )

    @Argument(help: "The target to fuzz, or 'seeds' to write generated seed inputs.")
    var target: String

    @Argument(parsing: .captureForPassthrough, help: "libFuzzer's options and corpus directories, passed through unchanged.")
    var libFuzzerArguments: [String] = []

    func run() throws {
        if target == "seeds" {
            guard let directory = libFuzzerArguments.first else { throw ValidationError("usage: testbed fuzz seeds DIR") }
            try FuzzSeeds.write(to: directory)
            return
        }
        guard let chosen = FuzzTarget(rawValue: target) else {
            throw ValidationError("unknown fuzz target '\(target)'; targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // Set up before libFuzzer starts: model loading and training are not part of any input.
        FuzzDriver.harness = try chosen.makeHarness { try FuzzModels.load() }
        // libFuzzer takes argv[0] as the program and, for -fork, -merge and -minimize_crash,
        // re-runs it through the shell with its flags appended: naming the subcommand and target
        // there makes those child processes fuzz the same target.
        let arguments = ["\(CommandLine.arguments[0]) fuzz \(target)"] + libFuzzerArguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var argc = Int32(arguments.count)
        let status = cArguments.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var argv = buffer.baseAddress
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                FuzzDriver.harness?(UnsafeRawBufferPointer(start: data, count: size))
                return 0
            }
        }
        throw ExitCode(status)
    }
}

/// The chosen target's harness, where libFuzzer's C callback (which cannot capture) finds it.
enum FuzzDriver {
    /// Set once before fuzzing starts; libFuzzer calls back on the same thread.
    nonisolated(unsafe) static var harness: ((UnsafeRawBufferPointer) -> Void)?
}
#endif

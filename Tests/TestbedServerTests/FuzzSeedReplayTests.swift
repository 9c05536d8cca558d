import Foundation
import Testing
@testable import TestbedServer

/// Every fuzz target's committed seeds (`Tests/Fuzz/corpus/TARGET`) and earlier findings
/// (`Tests/Fuzz/crashes/TARGET-*`), fed through the same harness libFuzzer drives in
/// `scripts/fuzz.sh`, on every test run: what once crashed stays fixed, and the harnesses keep
/// working. A crash or failed check in a harness stops the test process, as it stops libFuzzer.
/// Fuzzing for new inputs, under the address sanitizer, is `scripts/fuzz.sh`'s, outside the tests.
@Suite struct FuzzSeedReplayTests {
    static let fuzzFolder = ServerProcess.repositoryRoot.appendingPathComponent("Tests/Fuzz")
    /// The scoring targets' models, trained once for all of them.
    static let models = Result { try FuzzModels.load(root: ServerProcess.repositoryRoot) }

    /// The committed inputs of `target`, seeds first, in name order.
    static func inputs(of target: FuzzTarget) throws -> [URL] {
        let files = FileManager.default
        let corpus = fuzzFolder.appendingPathComponent("corpus/\(target.rawValue)")
        let seeds = (try? files.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)) ?? []
        let crashes = try files.contentsOfDirectory(at: fuzzFolder.appendingPathComponent("crashes"), includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("\(target.rawValue)-") }
        return seeds.sorted { $0.lastPathComponent < $1.lastPathComponent } + crashes.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test(arguments: FuzzTarget.allCases)
    func committedInputsRunThroughTheHarness(_ target: FuzzTarget) async throws {
        let inputs = try Self.inputs(of: target)
        // Every target has seeds of its own, so a missing or emptied corpus folder fails here.
        #expect(inputs.count >= 5, "\(target.rawValue) has \(inputs.count) committed inputs")
        try await Self.onThreadOfItsOwn {
            let harness = try target.makeHarness { try Self.models.get() }
            for input in inputs {
                try Data(contentsOf: input).withUnsafeBytes { harness($0) }
            }
        }
    }

    /// Runs `body` on a thread of its own, as libFuzzer runs a harness on the main thread: the
    /// harnesses wait for the routes' async code with a semaphore, which must not block one of the
    /// few threads that run Swift's tasks. The stack is the main thread's 8 MiB.
    static func onThreadOfItsOwn(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}

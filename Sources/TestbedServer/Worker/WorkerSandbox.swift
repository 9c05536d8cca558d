import Foundation
import InferenceCore
#if canImport(Glibc)
import Glibc
#endif

/// The worker's side of ``WorkerLauncher``: the limits it puts on itself, the request it reads,
/// the messages it writes.
struct WorkerSandbox {
    let job: WorkerJob
    /// The server's end of the message lines: the standard output the worker started with.
    /// Standard output itself is pointed at standard error, so that nothing printed by a library
    /// can be mistaken for a message.
    private let channel: Int32

    /// What a worker writes to standard error when a trap finds `errno` set to ENOMEM: the
    /// allocation that just failed is what stopped it.
    static let outOfMemoryMarker = "testbed worker: out of memory (an allocation failed at the memory limit)"
    /// Last words that mean the worker ran out of memory: ours, the Swift runtime's,
    /// Foundation's, OpenBLAS's.
    static let outOfMemoryPhrases = [outOfMemoryMarker, "failed to allocate", "could not allocate memory", "cannot allocate memory",
                                     "unable to allocate", "too many memory regions", "out of memory"]

    /// Limits the process, takes over its standard streams and watches for the server going away.
    ///
    /// - Parameter memoryLimit: bytes; the data segment limit (RLIMIT_DATA) is set before
    ///   anything else is allocated.
    static func enter(_ job: WorkerJob, memoryLimit: Int?) throws -> WorkerSandbox {
        if let memoryLimit { try limitMemory(to: memoryLimit) }
        installOutOfMemoryMarker()
        let channel = dup(1)
        dup2(2, 1)
        return WorkerSandbox(job: job, channel: channel)
    }

    /// RLIMIT_DATA, not RLIMIT_AS: the address space also counts what is only reserved (64 MiB
    /// per malloc arena, every library's code), about 350 MiB before any work; the data segment
    /// counts the heap and private writable mappings, what the work allocates, and starts at
    /// about 40 MiB (thread stacks, libraries' data; OpenBLAS would add a 128 MiB buffer for
    /// its threads, which is why the launcher starts workers with one). An allocation past it
    /// fails with ENOMEM.
    private static func limitMemory(to bytes: Int) throws {
        var limit = rlimit(rlim_cur: rlim_t(bytes), rlim_max: rlim_t(bytes))
        guard setrlimit(__rlimit_resource_t(RLIMIT_DATA.rawValue), &limit) == 0 else {
            throw TestbedError(.io, "cannot set the memory limit of \(bytes) bytes: \(String(cString: strerror(errno)))")
        }
    }

    /// On a trap or a bad access, writes ``outOfMemoryMarker`` if `errno` is ENOMEM, then dies of
    /// the same signal. A failed `malloc` sets ENOMEM and the Swift runtime traps right after,
    /// saying nothing: this is how the server tells that death from a crash.
    private static func installOutOfMemoryMarker() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            guard errno == ENOMEM else { return }
            // Only async-signal-safe calls here: a static string and write(2).
            let text: StaticString = "\ntestbed worker: out of memory (an allocation failed at the memory limit)\n"
            _ = write(2, text.utf8Start, text.utf8CodeUnitCount)
        }
        // Back to the default action after this handler: returning re-runs the faulting
        // instruction, which then ends the process with the signal the server sees.
        action.sa_flags = Int32(bitPattern: SA_RESETHAND)
        sigemptyset(&action.sa_mask)
        for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] { sigaction(signal, &action, nil) }
    }

    /// Reads the request, does `work` and writes its result (or the error it threw) as the last
    /// message, then exits.
    func serve<Request: Decodable, Result: Codable & Sendable>(
        _: Request.Type, _: Result.Type, work: (Request, @escaping TrainingProgressHandler) throws -> Result
    ) -> Never {
        do {
            let request = try JSONDecoder().decode(Request.self, from: readRequestLine())
            watchForServerExit()
            WorkerFault.current(for: job)?.happen()
            let result = try work(request) { step in send(WorkerMessage<Result>.progress(WorkerProgress(step))) }
            send(WorkerMessage.finished(result))
            exit(0)
        } catch {
            send(WorkerMessage<Result>.failed(WorkerErrorReport(error)))
            exit(1)
        }
    }

    private func send<Result>(_ message: WorkerMessage<Result>) {
        guard var line = try? JSONEncoder().encode(message) else { return }
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { _ = writeFully(channel, $0) }
    }

    /// The request: one JSON line on standard input.
    private func readRequestLine() throws -> Data {
        var line = Data()
        var byte: UInt8 = 0
        while true {
            let count = read(0, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { throw TestbedError(.io, "the worker's request ended early") }
            if byte == UInt8(ascii: "\n") { return line }
            line.append(byte)
        }
    }

    /// The server keeps our standard input open while we run: end of file means it has gone
    /// (killed, crashed), and a worker nobody waits for should not go on using the machine.
    private func watchForServerExit() {
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while true {
                let count = read(0, &byte, 1)
                if count == 0 || (count < 0 && errno != EINTR) { _exit(75) }
            }
        }
    }
}

/// A failure on purpose, for the tests only: `TESTBED_WORKER_FAULT=<job>:<fault>` in the
/// server's environment (which its workers inherit), for example `train:trap`. Only the worker
/// subcommand reads it; no client request can set it.
enum WorkerFault: String {
    /// A Swift runtime trap, as a failed precondition or a bug would cause.
    case trap
    /// Allocates until the memory limit stops it.
    case exhaustMemory = "exhaust-memory"
    /// Never finishes, for the time limit.
    case hang

    /// What ``exhaustMemory`` allocates, kept where the optimizer cannot drop it.
    nonisolated(unsafe) private static var held: [[UInt8]] = []

    static func current(for job: WorkerJob) -> WorkerFault? {
        guard let value = ProcessInfo.processInfo.environment["TESTBED_WORKER_FAULT"] else { return nil }
        let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == job.rawValue else { return nil }
        return WorkerFault(rawValue: parts[1])
    }

    func happen() {
        switch self {
        case .trap:
            fatalError("TESTBED_WORKER_FAULT=trap")
        case .exhaustMemory:
            while true { Self.held.append([UInt8](repeating: 1, count: 8 << 20)) }
        case .hang:
            while true { sleep(60) }
        }
    }
}

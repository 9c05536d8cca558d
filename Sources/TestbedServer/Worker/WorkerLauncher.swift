import Foundation
import NIOConcurrencyHelpers
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Runs heavy work (profiling an upload, training) in a child process of this very executable,
/// `testbed worker <job>`, under ``WorkerSettings``' memory and time limits: whatever the child
/// does (trap, run out of memory, loop) fails that one piece of work, never the server. (Unless
/// ``WorkerSettings/inProcess`` says otherwise, for the benchmark.)
///
/// The request goes to the child's standard input as one JSON line; the child answers with JSON
/// lines on its standard output (progress, then the result or the error it caught). The end of
/// its standard error is kept, for the log and to recognise an out-of-memory death.
struct WorkerLauncher: Sendable {
    let settings: WorkerSettings

    /// Our own executable as the kernel knows it: the same program even if the file on disk
    /// has been replaced by an upgrade since the server started.
    static let executable = "/proc/self/exe"
    /// Threads that wait for profiling processes, apart from `NIOThreadPool.singleton` (which
    /// scores large prediction batches): uploads waiting on their workers, for up to the profiling
    /// time limit, never hold up predictions. Each waiting thread sleeps in `poll`; sixteen
    /// uploads are profiled at once, later ones wait their turn.
    static let profilingWaiters: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()
    /// The longest message line read from a worker: the answer of a training process holds the
    /// model, a few megabytes for a large forest.
    static let maxLineBytes = 1 << 30
    /// How much of a worker's standard error is kept: its last words.
    static let errorTailBytes = 16_384

    /// Runs `job` on a thread of `pool` (waiting for the child blocks that thread, never an
    /// event loop) and returns its result.
    ///
    /// - Parameters:
    ///   - started: called with the process once it runs, so that it can be stopped.
    ///   - progress: called on the pool's thread with every progress line; an error thrown from
    ///     it stops the worker and is rethrown.
    /// - Throws: ``WorkerFailure`` when the child ended without an answer; the error the child
    ///   reported (a ``TestbedError`` about the input, mostly) when it caught one.
    func run<Result: Codable & Sendable>(_ job: WorkerJob, request: some Encodable & Sendable, timeLimit: Double,
                                         on pool: NIOThreadPool, as _: Result.Type = Result.self,
                                         started: @escaping @Sendable (WorkerProcess) -> Void = { _ in },
                                         progress: @escaping @Sendable (WorkerProgress) throws -> Void = { _ in }) async throws -> Result {
        var line = try JSONEncoder().encode(request)
        line.append(UInt8(ascii: "\n"))
        if settings.inProcess {
            return try await pool.runIfActive { [line] in try Self.runHere(job, requestLine: line, progress: progress) }
        }
        return try await pool.runIfActive { [line] in
            try runBlocking(job, requestLine: line, timeLimit: timeLimit, started: started, progress: progress)
        }
    }

    /// A spare killed from outside (SIGKILL) while its request was being written, the signal
    /// not yet delivered: it ends without a word, and its request goes to a new worker, once.
    private struct SpareLost: Error {}

    private func runBlocking<Result: Codable & Sendable>(_ job: WorkerJob, requestLine: Data, timeLimit: Double,
                                                         started: (WorkerProcess) -> Void,
                                                         progress: (WorkerProgress) throws -> Void) throws -> Result {
        do {
            return try runOnce(job, requestLine: requestLine, timeLimit: timeLimit, useSpare: true, started: started, progress: progress)
        } catch is SpareLost {
            return try runOnce(job, requestLine: requestLine, timeLimit: timeLimit, useSpare: false, started: started, progress: progress)
        }
    }

    private func runOnce<Result: Codable & Sendable>(_ job: WorkerJob, requestLine: Data, timeLimit: Double, useSpare: Bool,
                                                     started: (WorkerProcess) -> Void,
                                                     progress: (WorkerProgress) throws -> Void) throws -> Result {
        var arguments = ["worker", job.rawValue]
        if let limit = settings.memoryLimit { arguments += ["--memory-limit", String(limit.bytes)] }
        let (worker, fromSpare) = try Self.start(arguments: arguments, request: requestLine, useSpare: useSpare)
        let (process, output, errors) = (worker.process, worker.output, worker.errors)
        // Kept open while the child runs: it sees end-of-file on its standard input only when
        // the server has gone, and then ends itself instead of running on unwatched.
        defer { close(worker.input) }
        started(process)

        let deadline = Date().addingTimeInterval(timeLimit)
        var reader = WorkerOutputReader(output: output, errors: errors)
        var answer: WorkerMessage<Result>?
        var progressError: (any Error)?
        var saidAnything = false
        let decoder = JSONDecoder()
        while let line = reader.next(until: deadline, onTimeout: process.timeOut) {
            saidAnything = true
            guard let message = try? decoder.decode(WorkerMessage<Result>.self, from: line) else { continue }
            switch message {
            case .progress(let step):
                guard progressError == nil else { continue }
                do { try progress(step) } catch {
                    progressError = error
                    process.terminate()
                }
            case .finished, .failed:
                answer = message
            }
        }
        close(output)
        close(errors)
        let (termination, peakBytes) = process.waitForExit()
        let errorText = String(decoding: reader.errorTail, as: UTF8.self)
        let detail = String((errorText.split(whereSeparator: \.isNewline).last.map(String.init) ?? "")
            .trimmingCharacters(in: .whitespaces).prefix(500))

        if let progressError { throw progressError }
        var failure = WorkerFailure(job: job, cause: .stopped, memoryLimit: settings.memoryLimit, detail: detail)
        if process.timedOut {
            failure.cause = .timedOut(seconds: timeLimit)
            throw failure
        }
        switch answer {
        case .finished(let result) where termination == .exited(0): return result
        case .failed(let report): throw report.error(of: job)
        default: break
        }
        if process.stopRequested { throw failure }
        if fromSpare && !saidAnything && reader.errorTail.isEmpty && termination == .signaled(SIGKILL) { throw SpareLost() }
        failure.cause = cause(of: termination, peakBytes: peakBytes, errorText: errorText)
        throw failure
    }

    /// Why a worker ended without an answer, from how it ended and its last words.
    private func cause(of termination: WorkerProcess.Termination, peakBytes: Int, errorText: String) -> WorkerFailure.Cause {
        let saidOutOfMemory = WorkerSandbox.outOfMemoryPhrases.contains { errorText.localizedCaseInsensitiveContains($0) }
        switch termination {
        case .exited(let status):
            return saidOutOfMemory ? .outOfMemory : .exited(status: status)
        case .signaled(SIGKILL):
            return .killed(signal: SIGKILL)
        case .signaled(let signal):
            if saidOutOfMemory { return .outOfMemory }
            // No last words, but it had used nearly all it may: say that it may be either.
            if let limit = settings.memoryLimit, Double(peakBytes) >= 0.9 * Double(limit.bytes) {
                return .outOfMemoryOrCrashed(signal: signal)
            }
            return .crashed(signal: signal)
        }
    }

    /// What every worker starts with.
    private static let environment: [String: String] = {
        var environment = ProcessInfo.processInfo.environment
        // The crash report would start a second program inside the memory limit and take
        // seconds; the server reports how the worker ended instead.
        environment["SWIFT_BACKTRACE"] = "enable=no"
        // The core runs OpenBLAS on one thread unless this is set (see `BLAS`); saying so before
        // the library loads spares the child starting a thread per core only to park them.
        if environment["OPENBLAS_NUM_THREADS"] == nil { environment["OPENBLAS_NUM_THREADS"] = "1" }
        return environment
    }()

    /// One started worker for each kind of work (its arguments), set up and waiting for its
    /// request: starting the executable and the Swift runtime takes tens of milliseconds,
    /// which the next upload or job then does not wait for.
    private static let spares = NIOLockedValueBox<[[String]: SpareSlot]>([:])

    private enum SpareSlot {
        /// Being started: concurrent requests do not start one each.
        case starting
        case ready(WorkerProcess.Channels)
    }

    /// The spare worker for `arguments` (with `useSpare`), or a new one, with `request` sent, and
    /// whether it was the spare; then a new spare is started for the next request, on another thread.
    private static func start(arguments: [String], request: Data, useSpare: Bool) throws -> (WorkerProcess.Channels, fromSpare: Bool) {
        // Written while the worker may not be reading yet: it must fit in the pipe.
        guard request.count <= 65_536 else { throw StorageError("a worker request of \(request.count) bytes does not fit in a pipe") }
        defer { DispatchQueue.global().async { startSpare(arguments: arguments) } }
        let spare = !useSpare ? nil : spares.withLockedValue { slots -> WorkerProcess.Channels? in
            guard case .ready(let ready) = slots[arguments] else { return nil }
            slots[arguments] = nil
            return ready
        }
        if let spare {
            if spare.send(request) { return (spare, true) }
            // It ended while it waited (killed from outside): a new one does the work.
            spare.discard()
        }
        let worker = try WorkerProcess.spawn(executable: executable, arguments: arguments, environment: environment)
        // A worker that ended at once fails the send; how it ended is read below, as for any other.
        _ = worker.send(request)
        return (worker, false)
    }

    private static func startSpare(arguments: [String]) {
        let reserved = spares.withLockedValue { slots in
            guard slots[arguments] == nil else { return false }
            slots[arguments] = .starting
            return true
        }
        guard reserved else { return }
        let spare = try? WorkerProcess.spawn(executable: executable, arguments: arguments, environment: environment)
        spares.withLockedValue { $0[arguments] = spare.map { .ready($0) } }
    }

    /// `--work-in-process`: the same work as a worker's on this thread, with the request and
    /// the result through JSON and errors reported as a worker reports them. Progress is not
    /// encoded, and a stop takes effect at the next progress step (see ``WorkerSettings/inProcess``).
    private static func runHere<Result: Codable>(_ job: WorkerJob, requestLine: Data,
                                                 progress: @escaping (WorkerProgress) throws -> Void) throws -> Result {
        let decoder = JSONDecoder()
        let result: any Encodable
        do {
            result = switch job {
            case .profile: try WorkerProfileCommand.profile(decoder.decode(ProfileRequest.self, from: requestLine))
            case .train: try WorkerTrainCommand.train(decoder.decode(TrainingRequest.self, from: requestLine)) { try progress(WorkerProgress($0)) }
            }
        } catch {
            throw WorkerErrorReport(error).error(of: job)
        }
        return try decoder.decode(Result.self, from: JSONEncoder().encode(result))
    }
}

/// A worker's standard output as newline-separated lines, read with a deadline, and the end of
/// its standard error, read alongside so that neither pipe fills up and stalls the worker.
private struct WorkerOutputReader {
    let output: Int32
    let errors: Int32
    /// The last ``WorkerLauncher/errorTailBytes`` of standard error.
    private(set) var errorTail: [UInt8] = []
    private var buffer = Data()
    private var chunk = [UInt8](repeating: 0, count: 65_536)
    private var outputEnded = false
    private var errorsEnded = false
    /// Dropping the rest of a line longer than ``WorkerLauncher/maxLineBytes``.
    private var skipping = false

    init(output: Int32, errors: Int32) { (self.output, self.errors) = (output, errors) }

    /// The next line, or `nil` once both pipes have ended. Once `deadline` has passed, calls
    /// `onTimeout` once and goes on reading what is left until the end.
    mutating func next(until deadline: Date, onTimeout: () -> Void) -> Data? {
        var timeoutCalled = false
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(buffer[buffer.startIndex..<newline])
                buffer.removeSubrange(buffer.startIndex...newline)
                if skipping { skipping = false; continue }
                return line
            }
            if outputEnded && errorsEnded { return nil }
            if buffer.count > WorkerLauncher.maxLineBytes { buffer.removeAll(); skipping = true }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 && !timeoutCalled {
                onTimeout()
                timeoutCalled = true
            }
            // An ended pipe is polled as -1, which poll(2) skips.
            var pollers = [pollfd(fd: outputEnded ? -1 : output, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: errorsEnded ? -1 : errors, events: Int16(POLLIN), revents: 0)]
            let wait = remaining > 0 ? Int32(min(remaining * 1000 + 1, 60_000)) : 1000
            let ready = poll(&pollers, 2, wait)
            if ready < 0 && errno != EINTR { outputEnded = true; errorsEnded = true; continue }
            guard ready > 0 else { continue }
            if pollers[0].revents != 0, let bytes = readChunk(output) {
                buffer.append(contentsOf: bytes)
            } else if pollers[0].revents != 0 {
                outputEnded = true
            }
            if pollers[1].revents != 0, let bytes = readChunk(errors) {
                errorTail.append(contentsOf: bytes)
                if errorTail.count > WorkerLauncher.errorTailBytes { errorTail.removeFirst(errorTail.count - WorkerLauncher.errorTailBytes) }
            } else if pollers[1].revents != 0 {
                errorsEnded = true
            }
        }
    }

    /// What one read gives; empty when interrupted, `nil` at end of file or on an error.
    private mutating func readChunk(_ descriptor: Int32) -> ArraySlice<UInt8>? {
        let count = read(descriptor, &chunk, chunk.count)
        if count > 0 { return chunk[0..<count] }
        if count < 0 && (errno == EINTR || errno == EAGAIN) { return [] }
        return nil
    }
}

/// Writes all of `bytes` to `descriptor`; false when the other end is gone.
@discardableResult
func writeFully(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            return false
        }
        offset += written
    }
    return true
}

import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Runs heavy work (profiling an upload, training) in a child process of this very executable,
/// `testbed worker <job>`, under ``WorkerSettings``' memory and time limits: whatever the child
/// does (trap, run out of memory, loop) fails that one piece of work, never the server.
///
/// The request goes to the child's standard input as one JSON line; the child answers with JSON
/// lines on its standard output (progress, then the result or the error it caught). Its standard
/// error goes to a file under `tmp/` that is read, for the log and to recognise an
/// out-of-memory death, once it has ended.
struct WorkerLauncher: Sendable {
    let settings: WorkerSettings
    let temporaryDirectory: String

    /// Our own executable as the kernel knows it: the same program even if the file on disk
    /// has been replaced by an upgrade since the server started.
    static let executable = "/proc/self/exe"
    /// The longest message line read from a worker; a profile of the widest table is far smaller.
    static let maxLineBytes = 256 << 20

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
        return try await pool.runIfActive { [line] in
            try runBlocking(job, requestLine: line, timeLimit: timeLimit, started: started, progress: progress)
        }
    }

    private func runBlocking<Result: Codable & Sendable>(_ job: WorkerJob, requestLine: Data, timeLimit: Double,
                                                         started: (WorkerProcess) -> Void,
                                                         progress: (WorkerProgress) throws -> Void) throws -> Result {
        let errorPath = temporaryDirectory + "/worker-\(UUID().uuidString).stderr"
        defer { unlink(errorPath) }
        var arguments = ["worker", job.rawValue]
        if let limit = settings.memoryLimit { arguments += ["--memory-limit", String(limit.bytes)] }
        var environment = ProcessInfo.processInfo.environment
        // The crash report would start a second program inside the memory limit and take
        // seconds; the server reports how the worker ended instead.
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let (process, input, output) = try WorkerProcess.spawn(executable: Self.executable, arguments: arguments,
                                                               environment: environment, errorPath: errorPath, request: requestLine)
        // Kept open while the child runs: it sees end-of-file on its standard input only when
        // the server has gone, and then ends itself instead of running on unwatched.
        defer { close(input) }
        started(process)

        let deadline = Date().addingTimeInterval(timeLimit)
        var reader = LineReader(descriptor: output)
        var answer: WorkerMessage<Result>?
        var progressError: (any Error)?
        let decoder = JSONDecoder()
        while let line = reader.next(until: deadline, onTimeout: process.timeOut) {
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
        let (termination, peakBytes) = process.waitForExit()
        let detail = Self.lastLine(ofFile: errorPath)

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
        failure.cause = cause(of: termination, peakBytes: peakBytes, errorText: Self.tail(ofFile: errorPath))
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

    /// The last 16 KiB of a worker's standard error.
    private static func tail(ofFile path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > 16_384 ? size - 16_384 : 0)
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }

    private static func lastLine(ofFile path: String) -> String {
        let line = tail(ofFile: path).split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        return String(line.trimmingCharacters(in: .whitespaces).prefix(500))
    }
}

/// Newline-separated lines from a pipe, read with a deadline.
private struct LineReader {
    let descriptor: Int32
    private var buffer = Data()
    private var chunk = [UInt8](repeating: 0, count: 65_536)
    private var ended = false
    /// Dropping the rest of a line longer than ``WorkerLauncher/maxLineBytes``.
    private var skipping = false

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// The next line, or `nil` at end of file. Once `deadline` has passed, calls `onTimeout`
    /// once and goes on reading what is left until the end.
    mutating func next(until deadline: Date, onTimeout: () -> Void) -> Data? {
        var timeoutCalled = false
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(buffer[buffer.startIndex..<newline])
                buffer.removeSubrange(buffer.startIndex...newline)
                if skipping { skipping = false; continue }
                return line
            }
            if ended { return nil }
            if buffer.count > WorkerLauncher.maxLineBytes { buffer.removeAll(); skipping = true }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 && !timeoutCalled {
                onTimeout()
                timeoutCalled = true
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let wait = remaining > 0 ? Int32(min(remaining * 1000 + 1, 60_000)) : 1000
            let ready = poll(&poller, 1, wait)
            if ready < 0 && errno != EINTR { ended = true; continue }
            guard ready > 0 else { continue }
            let count = read(descriptor, &chunk, chunk.count)
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
            } else if count == 0 || errno != EINTR && errno != EAGAIN {
                ended = true
            }
        }
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

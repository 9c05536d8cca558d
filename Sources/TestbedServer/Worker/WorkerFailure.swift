import Foundation
import Hummingbird

/// A worker process that ended without an answer: out of memory, crashed, killed, over its time
/// limit. It fails that one upload or job, with a message that says what happened and what to try.
struct WorkerFailure: Error, Sendable, CustomStringConvertible {
    enum Cause: Sendable, Equatable {
        /// It could not get memory within its limit (its own last words said so).
        case outOfMemory
        /// It stopped on a signal near its memory limit without saying why: either.
        case outOfMemoryOrCrashed(signal: Int32)
        /// It stopped on a signal of its own (a trap, a bad access).
        case crashed(signal: Int32)
        /// Something else killed it: the kernel's out-of-memory killer, most likely, or an operator.
        case killed(signal: Int32)
        /// It exited without an answer.
        case exited(status: Int32)
        /// The server stopped it at its time limit.
        case timedOut(seconds: Double)
        /// The server stopped it on request (cancel, shutdown).
        case stopped
        /// It caught an error that is not about the input and said so.
        case reported(String)
    }

    var job: WorkerJob
    var cause: Cause
    /// The limit it ran under.
    var memoryLimit: MemorySize?
    /// The last line it wrote to standard error, for the log.
    var detail = ""

    var message: String {
        let process = job.process
        let limit = memoryLimit.map { " at its \($0) limit" } ?? ""
        let larger = memoryLimit == nil ? "" : ", or a larger --worker-memory-limit"
        switch cause {
        case .outOfMemory:
            return "\(process) ran out of memory\(limit); \(job.consequence); try \(job.smallerInput)\(larger)"
        case .outOfMemoryOrCrashed(let signal):
            return "\(process) stopped unexpectedly (signal \(signal)) close to its memory limit\(memoryLimit.map { " of \($0)" } ?? ""): it ran out of memory or crashed; \(job.consequence); try \(job.smallerInput)\(larger)"
        case .crashed(let signal):
            return "\(process) stopped unexpectedly (signal \(signal), a crash); \(job.consequence)"
        case .killed(let signal):
            return "\(process) was killed (signal \(signal)), most likely because the machine ran out of memory; \(job.consequence); try \(job.smallerInput)"
        case .exited(let status):
            return "\(process) stopped unexpectedly (exit status \(status)\(detail.isEmpty ? "" : ": \(detail)")); \(job.consequence)"
        case .timedOut(let seconds):
            let advice = job == .train ? "a smaller time_budget_seconds or fewer rows" : "a smaller file"
            return "\(process) ran past its time limit of \(describeSeconds(seconds)) and was stopped; \(job.consequence); try \(advice), or a larger --worker-time-limit"
        case .stopped:
            return "\(process) was stopped; \(job.consequence)"
        case .reported(let text):
            return "\(process) failed: \(text); \(job.consequence)"
        }
    }

    var description: String { detail.isEmpty ? message : "\(message) [\(detail)]" }

    /// The answer to an upload whose profiling failed this way.
    ///
    /// A table too large for the memory limit is refused like every other size limit (413); a
    /// file that crashes the profiler or never finishes cannot be processed (422), and resending
    /// it would do the same; an error the worker reported that is not about the input is ours (500).
    var apiError: APIError {
        switch cause {
        case .outOfMemory, .outOfMemoryOrCrashed:
            return APIError(status: .contentTooLarge, code: "out_of_memory", message: message)
        case .crashed, .killed, .exited, .timedOut:
            return APIError(status: .unprocessableContent, code: "profiling_failed", message: message)
        case .stopped:
            return APIError.unavailable(message)
        case .reported:
            return APIError(status: .internalServerError, code: "internal", message: message)
        }
    }
}

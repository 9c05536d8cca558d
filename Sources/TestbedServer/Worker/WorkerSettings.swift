import Foundation

/// The limits every worker process runs under (`testbed serve --worker-memory-limit`, `--worker-time-limit`).
struct WorkerSettings: Sendable {
    /// The most memory a worker may allocate (its data segment: heap and anonymous mappings);
    /// `nil` for no limit.
    var memoryLimit: MemorySize? = .gibibytes(4)
    /// Seconds any worker may run; `nil` for the defaults below.
    var timeLimit: Double?
    /// `testbed serve --work-in-process` (hidden): the same work, in the server's own threads.
    /// Only for measuring what the worker process costs (the benchmark's peer) and for a
    /// debugger: a trap in heavy work then ends the server, no limit applies, and a cancelled
    /// job or a shutdown stops training only at its next progress step.
    var inProcess = false

    /// Profiling reads the file once: even a gigabyte takes well under a minute, so ten leave
    /// room for a busy machine while still ending a file that makes the reader loop.
    static let defaultProfilingSeconds = 600.0
    /// Training may overrun its budget by the final fit on every row; this margin lets a
    /// large table finish without letting a stuck one run forever.
    static let trainingMarginSeconds = 600.0

    var profilingTimeLimit: Double { timeLimit ?? Self.defaultProfilingSeconds }

    /// The job's time budget plus the larger of itself and ten minutes, unless `--worker-time-limit` says otherwise.
    func trainingTimeLimit(budget: Double) -> Double {
        timeLimit ?? budget + max(budget, Self.trainingMarginSeconds)
    }
}

/// A duration in words for a message: `2 s`, `1.5 s`, `10 min`, `1 h 5 min`.
func describeSeconds(_ seconds: Double) -> String {
    if seconds < 120 { return seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.3g s", seconds) }
    let minutes = Int((seconds / 60).rounded())
    if minutes < 120 { return "\(minutes) min" }
    return minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes / 60) h \(minutes % 60) min"
}

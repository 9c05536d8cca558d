import Foundation
import InferenceCore
import NIOConcurrencyHelpers

/// Why a running job is being stopped.
enum JobStop: Error, Sendable {
    /// A client cancelled it.
    case cancelled
    /// The server is shutting down.
    case interrupted
}

/// Receives a running job's progress from its training process, stops that process when asked
/// to, and writes what a client should see (progress, message, the leaderboard so far) to the
/// database, at most a few times a second and at every finished candidate.
final class JobProgressReporter: Sendable {
    private struct State {
        var stop: JobStop?
        /// The training process, once it runs.
        var worker: WorkerProcess?
        var leaderboard: [LeaderboardEntry] = []
        var lastWrite = Date.distantPast
        /// The latest step not yet written, and whether a writer is at work.
        var pending: Progress?
        var writing = false
    }

    let jobID: String
    private let store: any MetadataStore
    private let state = NIOLockedValueBox(State())

    init(jobID: String, store: any MetadataStore) {
        self.jobID = jobID
        self.store = store
    }

    /// Why the job was asked to stop, if it was.
    var stopReason: JobStop? { state.withLockedValue { $0.stop } }

    /// Stops the training: its process is terminated (at once, not at the next fold: it keeps
    /// nothing worth waiting for), or is never started if it has not been yet.
    func stop(_ reason: JobStop) {
        let worker = state.withLockedValue { state in
            if state.stop == nil { state.stop = reason }
            return state.worker
        }
        worker?.terminate()
    }

    /// Called once the training process runs: a stop asked for while it was starting reaches it now.
    func attach(_ worker: WorkerProcess) {
        let stop = state.withLockedValue { state in
            state.worker = worker
            return state.stop
        }
        if stop != nil { worker.terminate() }
    }

    /// Records one step of the training; throws once the job is to stop, which ends training
    /// done in the server's own threads (`--work-in-process`) at this step. The write happens
    /// off this thread: a slow database never holds training back, and only the latest step
    /// waiting is written.
    func report(_ step: TrainingProgress) throws {
        if let stop = stopReason { throw stop }
        let startWriter: Bool = state.withLockedValue { state in
            if let entry = step.finished { state.leaderboard.append(entry) }
            let now = Date()
            guard step.finished != nil || now.timeIntervalSince(state.lastWrite) >= 0.25 else { return false }
            state.lastWrite = now
            state.pending = Progress(fraction: min(max(step.fraction, 0), 1), message: step.message, leaderboard: state.leaderboard)
            defer { state.writing = true }
            return !state.writing
        }
        if startWriter { Task { await writePending() } }
    }

    private struct Progress {
        var fraction: Double
        var message: String
        var leaderboard: [LeaderboardEntry]
    }

    /// Writes what waits until nothing does; one writer at a time, so that writes land in order.
    private func writePending() async {
        while let progress = state.withLockedValue({ state -> Progress? in
            defer { state.pending = nil }
            if state.pending == nil { state.writing = false }
            return state.pending
        }) {
            let board = progress.leaderboard.isEmpty ? nil : try? JSONEncoder().encode(progress.leaderboard)
            // Progress is advisory: a failed write is followed by the next step's.
            try? await store.recordProgress(of: jobID, fraction: progress.fraction, message: progress.message, leaderboard: board)
        }
    }
}

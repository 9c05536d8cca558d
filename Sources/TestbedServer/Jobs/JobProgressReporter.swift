import Foundation
import GRDB
import InferenceCore
import NIOConcurrencyHelpers

/// Why a running job is being stopped.
enum JobStop: Error, Sendable {
    /// A client cancelled it.
    case cancelled
    /// The server is shutting down.
    case interrupted
}

/// Receives a running job's progress on its training thread, stops it when asked to, and writes
/// what a client should see (progress, message, the leaderboard so far) to the database, at most
/// a few times a second and at every finished candidate.
final class JobProgressReporter: Sendable {
    private struct State {
        var stop: JobStop?
        var leaderboard: [LeaderboardEntry] = []
        var lastWrite = Date.distantPast
    }

    let jobID: String
    private let store: MetadataStore
    private let state = NIOLockedValueBox(State())

    init(jobID: String, store: MetadataStore) {
        self.jobID = jobID
        self.store = store
    }

    /// Asks the training to stop at its next step (the next fold at the latest).
    func stop(_ reason: JobStop) {
        state.withLockedValue { if $0.stop == nil { $0.stop = reason } }
    }

    /// The ``TrainingProgressHandler`` given to the training.
    func report(_ step: TrainingProgress) throws {
        let (stop, write, leaderboard): (JobStop?, Bool, [LeaderboardEntry]) = state.withLockedValue { state in
            if let entry = step.finished { state.leaderboard.append(entry) }
            let now = Date()
            let write = step.finished != nil || now.timeIntervalSince(state.lastWrite) >= 0.25
            if write { state.lastWrite = now }
            return (state.stop, write, state.leaderboard)
        }
        if let stop { throw stop }
        guard write else { return }
        let board = leaderboard.isEmpty ? nil : try JSONEncoder().encode(leaderboard)
        try store.pool.write { db in
            try db.execute(sql: "UPDATE job SET progress = ?, message = ?, leaderboard = ? WHERE id = ? AND state = 'running'",
                           arguments: [min(max(step.fraction, 0), 1), step.message, board, self.jobID])
        }
    }
}

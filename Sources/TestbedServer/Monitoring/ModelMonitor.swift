import ArgumentParser
import Foundation
import InferenceCore
import Metrics
import NIOConcurrencyHelpers
import Synchronization

/// How served models are watched: windows, drift flags, what is kept and for how long.
struct MonitoringSettings: Sendable {
    /// `--no-monitoring` turns off drift counting, prediction ids and the prediction log together.
    var enabled = true
    /// A window closes after this many rows or this many seconds, whichever comes first.
    var windowRows = 1_000
    var windowSeconds: Double = 3_600
    /// Days closed windows are kept.
    var retentionDays = 30
    /// A feature (or the predictions) is flagged when its PSI in a window reaches this...
    var psiThreshold = 0.25
    /// ...and the window has at least this many rows (fewer rows make PSI noisy).
    var minRows = 200
    /// Live metrics are measured over this many of the latest outcomes.
    var liveOutcomes = 500

    /// Refuses settings that would make monitoring meaningless or unbounded.
    func validate() throws {
        guard psiThreshold.isFinite, psiThreshold > 0 else { throw ValidationError("the drift threshold must be a PSI above 0, such as 0.25; got \(psiThreshold)") }
        guard (1...1_000_000).contains(minRows) else { throw ValidationError("drift min rows must be 1 to 1000000; got \(minRows)") }
        guard (1...1_000_000).contains(windowRows) else { throw ValidationError("monitoring window rows must be 1 to 1000000; got \(windowRows)") }
        guard windowSeconds.isFinite, windowSeconds >= 1, windowSeconds <= 86_400 else {
            throw ValidationError("monitoring window seconds must be 1 to 86400; got \(windowSeconds)")
        }
        guard minRows <= windowRows else {
            throw ValidationError("drift min rows (\(minRows)) must not exceed the monitoring window rows (\(windowRows)): no window could ever be flagged")
        }
        guard (1...3_650).contains(retentionDays) else { throw ValidationError("monitoring days must be 1 to 3650; got \(retentionDays)") }
        guard (1...100_000).contains(liveOutcomes) else { throw ValidationError("live outcomes must be 1 to 100000; got \(liveOutcomes)") }
    }
}

/// What is kept of one served prediction, to match an outcome to it later.
struct LoggedPrediction: Codable, Sendable {
    var seq: Int64
    var at: Date
    /// Regression: the predicted value; classification: the index of the predicted class.
    var value: Double
    var probabilities: [Double]?
    var interval: [Double]?
    var set: [Int]?
    /// The row as it was sent, only when the tenant keeps inputs.
    var inputs: [String: String]?

    init(seq: Int64, at: Date, value: Double, probabilities: [Double]? = nil, interval: [Double]? = nil, set: [Int]? = nil) {
        (self.seq, self.at, self.value, self.probabilities, self.interval, self.set) = (seq, at, value, probabilities, interval, set)
    }

    /// Every row of a scored batch, numbered from `firstSeq`.
    static func rows(of predictions: Predictions, firstSeq: Int64, at now: Date) -> [LoggedPrediction] {
        predictions.values.indices.map { row in
            LoggedPrediction(seq: firstSeq + Int64(row), at: now, value: predictions.values[row],
                             probabilities: predictions.probabilities?.row(row),
                             interval: predictions.intervals.map { [$0[row].lower, $0[row].upper] },
                             set: predictions.predictionSets?[row])
        }
    }
}

/// Predictions waiting to be written, already in ``PredictionLogCodec``'s form (without its
/// format byte): a few dozen bytes a row, no allocation per row.
struct PendingLog: Sendable {
    var bytes: [UInt8] = []
    var rows = 0
    /// Numbers are handed out before a monitor's lock is taken, so rows are not in order.
    var lowestSeq = Int64.max
    var highestSeq = Int64.min
    var firstAt: Date?

    var isEmpty: Bool { rows == 0 }

    mutating func append(_ other: PendingLog) {
        bytes += other.bytes
        rows += other.rows
        (lowestSeq, highestSeq) = (min(lowestSeq, other.lowestSeq), max(highestSeq, other.highestSeq))
        firstAt = [firstAt, other.firstAt].compactMap { $0 }.min()
    }
}

/// The bin counts of a window, and when it began and ended.
struct MonitoringWindow: Sendable {
    var counts: DriftCounts
    var startedAt: Date
    var endedAt: Date
}

/// One served model version in one tenant's view: the open window's counts and the predictions
/// not yet written. Every request takes the lock once, briefly; the writing is done by
/// ``MonitoringService`` off the request path.
final class ModelMonitor: Sendable {
    let tenant: String
    let name: String
    let version: Int
    let isDemonstration: Bool
    /// The version's record, for a tenant's model: a model deleted and trained again under the
    /// same name and number is another record, and what was counted for the old one is not its.
    let recordID: String?
    /// `nil` for a model file from before drift references: its predictions are logged, not binned.
    let reference: DriftReference?

    private struct State {
        var window: DriftCounts?
        var startedAt: Date
        var closed: [MonitoringWindow] = []
        var pending = PendingLog()
    }
    private let state: NIOLockedValueBox<State>
    /// Read on every request before the lock is taken: whether the tenant keeps input rows.
    private let logInputs: Synchronization.Atomic<Bool>

    init(tenant: String, served: ServedModel, logInputs: Bool, now: Date) {
        (self.tenant, self.name, self.version, isDemonstration) = (tenant, served.name, served.version, served.isDemonstration)
        recordID = served.record?.id
        let reference = served.model.training.driftReference
        self.reference = reference
        state = NIOLockedValueBox(State(window: reference.map { DriftCounts(reference: $0) }, startedAt: now))
        self.logInputs = Synchronization.Atomic(logInputs)
    }

    /// Bytes of predictions waiting to be written, at most: while the writer is behind (or the
    /// database refuses writes), new predictions beyond this are not logged (and are counted in
    /// `testbed_predictions_not_logged_total`), rather than memory growing without end.
    static let maxPendingBytes = 8 << 20

    /// Batches up to this many rows are counted inside the lock (cheaper than a window of their
    /// own); larger ones are counted outside it and merged, so other requests do not wait.
    static let inlineRows = 64

    /// Counts a scored batch into the open window and queues its predictions for the log, as
    /// sequence numbers `firstSeq...`. A window that reaches its row limit closes here; a batch
    /// is never split, so a window may hold more rows than the limit.
    func record(_ table: DataTable, _ predictions: Predictions, firstSeq: Int64, now: Date, settings: MonitoringSettings) {
        let rows = predictions.values.count
        var log = PendingLog(rows: rows, lowestSeq: firstSeq, highestSeq: firstSeq + Int64(rows) - 1, firstAt: now)
        let inputs = logInputs.load(ordering: .relaxed) ? Self.inputs(of: table) : nil
        if (try? PredictionLogCodec.append(predictions, firstSeq: firstSeq, at: now, inputs: inputs, to: &log.bytes)) == nil { log = PendingLog() }
        var counted: DriftCounts?
        if let reference, table.rowCount > Self.inlineRows {
            counted = DriftCounts(reference: reference)
            reference.count(table, predictions: predictions, into: &counted!)
        }
        let logged = state.withLockedValue { state -> Bool in
            let fits = state.pending.bytes.count + log.bytes.count <= Self.maxPendingBytes
            if fits { state.pending.append(log) }
            if let reference, state.window != nil {
                if let counted { state.window!.add(counted) } else { reference.count(table, predictions: predictions, into: &state.window!) }
                if state.window!.rows >= settings.windowRows { Self.close(&state, reference: reference, now: now) }
            }
            return fits
        }
        if !logged { Self.notLogged.increment(by: rows) }
    }

    static let notLogged = Counter(label: "testbed_predictions_not_logged_total")

    /// Puts back what a failed write took, ahead of what arrived since.
    func restore(_ waiting: (windows: [MonitoringWindow], predictions: PendingLog)) {
        state.withLockedValue { state in
            state.closed = waiting.windows + state.closed
            var pending = waiting.predictions
            pending.append(state.pending)
            state.pending = pending
        }
    }

    /// Closes the open window once it is older than the time limit (and holds any rows).
    func closeIfExpired(now: Date, settings: MonitoringSettings) {
        state.withLockedValue { state in
            guard let reference, let window = state.window else { return }
            if window.rows == 0 { state.startedAt = now; return }
            if now.timeIntervalSince(state.startedAt) >= settings.windowSeconds { Self.close(&state, reference: reference, now: now) }
        }
    }

    /// Closes the open window whatever its age (at shutdown), when it holds rows.
    func closeNow(now: Date) {
        state.withLockedValue { state in
            guard let reference, let window = state.window, window.rows > 0 else { return }
            Self.close(&state, reference: reference, now: now)
        }
    }

    /// Takes what is waiting to be written: closed windows and logged predictions.
    func drain() -> (windows: [MonitoringWindow], predictions: PendingLog) {
        state.withLockedValue { state in
            defer { (state.closed, state.pending) = ([], PendingLog()) }
            return (state.closed, state.pending)
        }
    }

    /// The window still counting, if it holds rows.
    var openWindow: MonitoringWindow? {
        state.withLockedValue { state in
            guard let window = state.window, window.rows > 0 else { return nil }
            return MonitoringWindow(counts: window, startedAt: state.startedAt, endedAt: Date())
        }
    }

    func setLogInputs(_ on: Bool) { logInputs.store(on, ordering: .relaxed) }

    private static func close(_ state: inout State, reference: DriftReference, now: Date) {
        state.closed.append(MonitoringWindow(counts: state.window!, startedAt: state.startedAt, endedAt: now))
        state.window = DriftCounts(reference: reference)
        state.startedAt = now
    }

    /// The cells of each row as text, for a tenant that keeps its inputs.
    private static func inputs(of table: DataTable) -> [[String: String]] {
        (0..<table.rowCount).map { row in
            var cells: [String: String] = [:]
            for column in table.columns {
                if let text = column.values.text(at: row) { cells[column.name] = text }
            }
            return cells
        }
    }
}

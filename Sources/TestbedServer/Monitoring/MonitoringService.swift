import Foundation
import InferenceCore
import Logging
import Metrics
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Watches every served model version: gives each predicted row an id, counts inputs and
/// predictions into windows (``ModelMonitor``), and, once a second off the request path, writes
/// closed windows and logged predictions to the database, sets the drift gauges and erases what
/// is older than its retention. On shutdown the open windows are closed and written; a crash
/// loses the open windows and the last second's predictions.
final class MonitoringService: Service, Sendable {
    let settings: MonitoringSettings
    private let store: any MetadataStore
    private let logger: Logger
    /// A new prefix at every start, so that ids never repeat across restarts.
    let prefix: String
    private let sequence = NIOLockedValueBox<Int64>(0)
    /// "tenant/name@version" to its monitor.
    private let monitors = NIOLockedValueBox<[String: ModelMonitor]>([:])
    /// Tenants that keep the inputs of their predictions.
    private let loggingInputs = NIOLockedValueBox<Set<String>>([])
    /// Tenants deleted in the last ``quarantine`` seconds, and when: requests of theirs still in
    /// flight are neither counted nor written, and the id cannot be given to a new tenant yet.
    private let retired = NIOLockedValueBox<[String: Date]>([:])
    static let quarantine: TimeInterval = 30
    /// The write in progress: one at a time, so that a caller who must see everything written
    /// (feedback) waits for a write the background loop has begun.
    private let writing = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(settings: MonitoringSettings, store: any MetadataStore, loggingInputs: [String], logger: Logger) {
        (self.settings, self.store, self.logger) = (settings, store, logger)
        prefix = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16)
        self.loggingInputs.withLockedValue { $0 = Set(loggingInputs) }
    }

    // MARK: The request path

    /// Records a scored batch of `tenant`'s view of `served` and returns each row's prediction
    /// id; `nil` when monitoring is off.
    func record(_ served: ServedModel, tenant: String, table: DataTable, predictions: Predictions) -> [String]? {
        guard settings.enabled, !isRetired(tenant) else { return nil }
        let first = numbers(predictions.values.count)
        let now = Date()
        monitor(served, tenant: tenant, now: now).record(table, predictions, firstSeq: first, now: now, settings: settings)
        return (0..<Int64(predictions.values.count)).map { PredictionID(prefix: prefix, seq: first + $0).description }
    }

    /// Ids for rows that arrive with their outcome (feedback by rows): their outcomes keep them,
    /// they are not counted as drift.
    func log(predictions: Predictions) -> [(id: String, logged: LoggedPrediction)] {
        LoggedPrediction.rows(of: predictions, firstSeq: numbers(predictions.values.count), at: Date()).map {
            (PredictionID(prefix: prefix, seq: $0.seq).description, $0)
        }
    }

    /// The first of `count` new sequence numbers.
    private func numbers(_ count: Int) -> Int64 {
        sequence.withLockedValue { value in
            defer { value += Int64(count) }
            return value
        }
    }

    private func monitor(_ served: ServedModel, tenant: String, now: Date) -> ModelMonitor {
        let key = Self.key(tenant, served.name, served.version)
        return monitors.withLockedValue { monitors in
            if let monitor = monitors[key] { return monitor }
            let logInputs = loggingInputs.withLockedValue { $0.contains(tenant) }
            let monitor = ModelMonitor(tenant: tenant, served: served, logInputs: logInputs, now: now)
            monitors[key] = monitor
            return monitor
        }
    }

    // MARK: What routes ask

    /// The window of `name`'s `version` still counting, in `tenant`'s view.
    func openWindow(tenant: String, name: String, version: Int) -> MonitoringWindow? {
        monitors.withLockedValue { $0[Self.key(tenant, name, version)] }?.openWindow
    }

    /// The logged predictions of `tenant`'s model `name` with these ids, by canonical id (see
    /// ``PredictionID``), and the version that made each; ids that are malformed, unknown,
    /// another model's or past retention are absent. Predictions whose outcome was reported
    /// (feedback by rows among them) are found with it.
    func findPredictions(_ ids: [PredictionID], tenant: String, name: String) async throws -> [PredictionID: (version: Int, logged: LoggedPrediction)] {
        try await flush()
        // Nearby numbers are read together, far ones apart, so that two ids cannot make one
        // request decode every batch written in between.
        var ranges: [SequenceRange] = []
        for (prefix, seqs) in Dictionary(grouping: ids, by: \.prefix) {
            for seq in Set(seqs.map(\.seq)).sorted() {
                if let last = ranges.last, last.prefix == prefix, seq - last.high <= 1_000 { ranges[ranges.count - 1].high = seq } else { ranges.append(SequenceRange(prefix: prefix, low: seq, high: seq)) }
            }
        }
        let wanted = Set(ids), canonical = ids.map(\.description), queries = ranges
        let (batches, outcomes) = try await store.loggedPredictions(of: name, tenant: tenant, ranges: queries, ids: canonical)
        let decoder = JSONDecoder()
        var found: [PredictionID: (version: Int, logged: LoggedPrediction)] = [:]
        for outcome in outcomes {
            if let id = PredictionID(outcome.predictionId), let logged = try? decoder.decode(LoggedPrediction.self, from: outcome.predicted) {
                found[id] = (outcome.version, logged)
            }
        }
        for batch in batches {
            guard let rows = PredictionLogCodec.decode(batch.payload) else {
                logger.error("a stored prediction batch cannot be read; its predictions cannot be matched", metadata: ["batch": "\(batch.id ?? -1)"])
                continue
            }
            for logged in rows {
                let id = PredictionID(prefix: batch.prefix, seq: logged.seq)
                if wanted.contains(id) { found[id] = (batch.version, logged) }
            }
        }
        return found
    }

    /// Drops the in-memory state of a deleted model (one version or all), or of all of a deleted tenant's.
    func forget(tenant: String, name: String?, version: Int?) {
        let forgotten = monitors.withLockedValue { monitors -> [ModelMonitor] in
            let matching = monitors.filter { _, monitor in
                monitor.tenant == tenant && (name == nil || monitor.name == name) && (version == nil || monitor.version == version)
            }
            for key in matching.keys { monitors[key] = nil }
            return Array(matching.values)
        }
        for monitor in forgotten { DriftGauges(monitor).destroy() }
    }

    /// A tenant was deleted: forgets its monitors and keeps its in-flight requests out for ``quarantine`` seconds.
    func retire(tenant: String) {
        retired.withLockedValue { $0[tenant] = Date() }
        forget(tenant: tenant, name: nil, version: nil)
    }

    /// Whether `tenant` was deleted moments ago (see ``retire(tenant:)``).
    func isRetired(_ tenant: String) -> Bool {
        retired.withLockedValue { retired in
            guard let at = retired[tenant] else { return false }
            if Date().timeIntervalSince(at) < Self.quarantine { return true }
            retired[tenant] = nil
            return false
        }
    }

    /// Exactly these tenants keep the inputs of their predictions (after changes that may have been missed).
    func replaceLoggingTenants(_ tenants: Set<String>) {
        let known = loggingInputs.withLockedValue { $0 }.union(tenants)
        for tenant in known { setLogInputs(tenants.contains(tenant), tenant: tenant) }
    }

    /// A tenant turned the keeping of inputs on or off.
    func setLogInputs(_ on: Bool, tenant: String) {
        loggingInputs.withLockedValue { if on { $0.insert(tenant) } else { $0.remove(tenant) } }
        for monitor in monitors.withLockedValue({ Array($0.values) }) where monitor.tenant == tenant { monitor.setLogInputs(on) }
    }

    // MARK: Writing

    func run() async throws {
        // A service that returns early ends the whole service group: with monitoring off, wait.
        guard settings.enabled else { return try await gracefulShutdown() }
        var lastPrune = Date.distantPast
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let now = Date()
            for monitor in monitors.withLockedValue({ Array($0.values) }) { monitor.closeIfExpired(now: now, settings: settings) }
            await flushLogging()
            if now.timeIntervalSince(lastPrune) > 600 {
                lastPrune = now
                await prune(now: now)
            }
        }
        let now = Date()
        for monitor in monitors.withLockedValue({ Array($0.values) }) { monitor.closeNow(now: now) }
        await flushLogging()
        logger.info("monitoring stopped; open windows written")
    }

    /// Writes what every monitor has waiting, after any write in progress, so that feedback
    /// finds the latest predictions. What a failed write took goes back to its monitor.
    func flush() async throws {
        guard settings.enabled else { return }
        let outcome = NIOLockedValueBox<(any Error)?>(nil)
        let task = writing.withLockedValue { writing -> Task<Void, Never> in
            let previous = writing
            let task = Task {
                await previous?.value
                do { try await self.writeWaiting() } catch { outcome.withLockedValue { $0 = error } }
            }
            writing = task
            return task
        }
        await task.value
        if let error = outcome.withLockedValue({ $0 }) { throw error }
    }

    private func writeWaiting() async throws {
        let encoder = JSONEncoder()
        let drained = monitors.withLockedValue { Array($0.values) }.map { ($0, $0.drain()) }.filter { !$0.1.windows.isEmpty || !$0.1.predictions.isEmpty }
        guard !drained.isEmpty else { return }
        // Encoded before the transaction: the database's single writer waits for nobody's JSON.
        var writes: [MonitoringWrite] = []
        var kept: [ModelMonitor] = []
        do {
            for (monitor, waiting) in drained where !isRetired(monitor.tenant) {
                let windows = try waiting.windows.map { window in
                    MonitoringWindowRecord(id: nil, tenantId: monitor.tenant, modelName: monitor.name, version: monitor.version,
                                           startedAt: window.startedAt, endedAt: window.endedAt, rows: window.counts.rows,
                                           counts: try encoder.encode(window.counts))
                }
                let log = waiting.predictions
                let batches = log.isEmpty ? [] : log.firstAt.map { at in
                    [PredictionBatchRecord(id: nil, tenantId: monitor.tenant, modelName: monitor.name, version: monitor.version,
                                           prefix: prefix, firstSeq: log.lowestSeq, lastSeq: log.highestSeq, createdAt: at,
                                           payload: Data([PredictionLogCodec.format] + log.bytes))]
                } ?? []
                writes.append(MonitoringWrite(tenant: monitor.tenant, modelRecordID: monitor.recordID, windows: windows, batches: batches))
                kept.append(monitor)
            }
        } catch {
            for (monitor, waiting) in drained { monitor.restore(waiting) }
            throw error
        }
        let goneIndices: Set<Int>
        do {
            goneIndices = try await store.saveMonitoring(writes)
        } catch {
            for (monitor, waiting) in drained { monitor.restore(waiting) }
            throw error
        }
        // The tenant, the model or the version may have been deleted meanwhile: its monitor goes
        // (one that a request re-created after it was forgotten too).
        let retiredNow = Set(drained.map(\.0).filter { isRetired($0.tenant) }.map(ObjectIdentifier.init))
        let gone = Set(goneIndices.map { ObjectIdentifier(kept[$0]) }).union(retiredNow)
        monitors.withLockedValue { monitors in
            for (key, monitor) in monitors where gone.contains(ObjectIdentifier(monitor)) { monitors[key] = nil }
        }
        for (monitor, waiting) in drained where !gone.contains(ObjectIdentifier(monitor)) {
            guard let reference = monitor.reference else { continue }
            for window in waiting.windows { DriftGauges(monitor).update(DriftScores(window.counts, reference: reference, settings: settings)) }
        }
        for (monitor, _) in drained where gone.contains(ObjectIdentifier(monitor)) { DriftGauges(monitor).destroy() }
    }

    private func flushLogging() async {
        do { try await flush() } catch { logger.error("monitoring data could not be written; kept for the next attempt", metadata: ["error": "\(error)"]) }
    }

    /// Erases windows older than the retention and predictions and outcomes older than their tenant's setting.
    private func prune(now: Date) async {
        let windowsBefore = now.addingTimeInterval(-Double(settings.retentionDays) * 86_400)
        do {
            let erased = try await store.prune(windowsBefore: windowsBefore, now: now)
            if erased > 0 { logger.info("monitoring data past its retention erased", metadata: ["records": "\(erased)"]) }
        } catch {
            logger.error("monitoring retention could not be applied", metadata: ["error": "\(error)"])
        }
    }

    private static func key(_ tenant: String, _ name: String, _ version: Int) -> String { "\(tenant)/\(name)@\(version)" }
}

/// A prediction's id, `<prefix>-<sequence>`: the serving process's random prefix (hexadecimal)
/// and the row's number in that process. Read leniently (upper case, leading zeros) and always
/// written and stored in one canonical form, so that two spellings are one prediction.
struct PredictionID: Hashable, Sendable, CustomStringConvertible {
    var prefix: String
    var seq: Int64

    init(prefix: String, seq: Int64) { (self.prefix, self.seq) = (prefix, seq) }

    /// `nil` for text that cannot be an id.
    init?(_ text: String) {
        guard text.utf8.count <= 40, let dash = text.lastIndex(of: "-") else { return nil }
        let prefix = text[..<dash], digits = text[text.index(after: dash)...]
        guard (1...16).contains(prefix.utf8.count), prefix.allSatisfy({ $0.isASCII && $0.isHexDigit }),
              (1...18).contains(digits.utf8.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), let seq = Int64(digits) else { return nil }
        (self.prefix, self.seq) = (prefix.lowercased(), seq)
    }

    var description: String { "\(prefix)-\(seq)" }
}

/// Per window: each feature's and the predictions' PSI against training, and which are flagged.
struct DriftScores: Sendable {
    struct Score: Sendable {
        var name: String
        var psi: Double
        var flagged: Bool
    }
    var rows: Int
    var features: [Score]
    var prediction: Score

    init(_ counts: DriftCounts, reference: DriftReference, settings: MonitoringSettings) {
        rows = counts.rows
        let enough = counts.rows >= settings.minRows
        func score(_ quantity: DriftReference.Quantity, _ observed: [Int]) -> Score {
            let psi = PopulationStability.index(expected: quantity.shares, observed: observed)
            return Score(name: quantity.name, psi: psi, flagged: enough && psi >= settings.psiThreshold)
        }
        features = zip(reference.features, counts.features).map(score)
        prediction = score(reference.prediction, counts.prediction)
    }
}

/// The Prometheus series of one monitored model version.
struct DriftGauges {
    let monitor: ModelMonitor
    let dimensions: [(String, String)]

    init(_ monitor: ModelMonitor) {
        self.monitor = monitor
        dimensions = [("model", monitor.name), ("version", "\(monitor.version)"), ("tenant", monitor.tenant)]
    }

    func update(_ scores: DriftScores) {
        for score in scores.features {
            Gauge(label: "testbed_feature_drift", dimensions: dimensions + [("feature", score.name)]).record(score.psi)
        }
        Gauge(label: "testbed_prediction_drift", dimensions: dimensions).record(scores.prediction.psi)
        Gauge(label: "testbed_drift_flagged_features", dimensions: dimensions).record(scores.features.filter(\.flagged).count)
        Counter(label: "testbed_monitored_rows_total", dimensions: dimensions).increment(by: scores.rows)
    }

    func destroy() {
        for feature in monitor.reference?.features.map(\.name) ?? [] {
            Gauge(label: "testbed_feature_drift", dimensions: dimensions + [("feature", feature)]).destroy()
        }
        Gauge(label: "testbed_prediction_drift", dimensions: dimensions).destroy()
        Gauge(label: "testbed_drift_flagged_features", dimensions: dimensions).destroy()
        Counter(label: "testbed_monitored_rows_total", dimensions: dimensions).destroy()
    }
}

import Foundation
import GRDB
import InferenceCore
import Logging
import Metrics
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Watches every served model version: gives each predicted row an id, counts inputs and
/// predictions into windows (``ModelMonitor``), and, once a second off the request path, writes
/// closed windows and logged predictions to the database, sets the drift gauges and erases what
/// is older than its retention. On shutdown the open windows are closed and written, so a
/// restart loses at most what arrived in the last second before a crash.
final class MonitoringService: Service, Sendable {
    let settings: MonitoringSettings
    private let store: MetadataStore
    private let logger: Logger
    /// A new prefix at every start, so that ids never repeat across restarts.
    let prefix: String
    private let sequence = NIOLockedValueBox<Int64>(0)
    /// "tenant/name@version" to its monitor.
    private let monitors = NIOLockedValueBox<[String: ModelMonitor]>([:])
    /// Tenants that keep the inputs of their predictions.
    private let loggingInputs = NIOLockedValueBox<Set<String>>([])

    init(settings: MonitoringSettings, store: MetadataStore, logger: Logger) throws {
        (self.settings, self.store, self.logger) = (settings, store, logger)
        prefix = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16)
        loggingInputs.withLockedValue { $0 = Set((try? store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM tenant WHERE logInputs")
        }) ?? []) }
    }

    // MARK: The request path

    /// Records a scored batch of `tenant`'s view of `served` and returns each row's prediction
    /// id; `nil` when monitoring is off.
    func record(_ served: ServedModel, tenant: String, table: DataTable, predictions: Predictions) -> [String]? {
        guard settings.enabled else { return nil }
        let rows = Int64(predictions.values.count)
        let first = sequence.withLockedValue { value in
            defer { value += rows }
            return value
        }
        let now = Date()
        monitor(served, tenant: tenant, now: now).record(table, predictions, firstSeq: first, now: now, settings: settings)
        return (0..<rows).map { "\(prefix)-\(first + $0)" }
    }

    /// Ids for rows that arrive with their outcome (feedback by rows): logged, not counted as drift.
    func log(_ served: ServedModel, tenant: String, predictions: Predictions) -> [(id: String, logged: LoggedPrediction)] {
        let rows = Int64(predictions.values.count)
        let first = sequence.withLockedValue { value in
            defer { value += rows }
            return value
        }
        let now = Date()
        return (0..<Int(rows)).map { row in
            let seq = first + Int64(row)
            return ("\(prefix)-\(seq)", LoggedPrediction(seq: seq, at: now, value: predictions.values[row],
                                                        probabilities: predictions.probabilities?.row(row),
                                                        interval: predictions.intervals.map { [$0[row].lower, $0[row].upper] },
                                                        set: predictions.predictionSets?[row]))
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

    /// The logged predictions of `tenant`'s model `name` with these ids, and the version that
    /// made each; ids that are malformed, unknown, another model's or past retention are absent.
    func findPredictions(_ ids: [String], tenant: String, name: String) async throws -> [String: (Int, LoggedPrediction)] {
        try await flush()
        var wanted: [String: Set<Int64>] = [:]
        for id in ids.compactMap(PredictionID.init) { wanted[id.prefix, default: []].insert(id.seq) }
        let queries = wanted
        let batches = try await store.pool.read { db in
            try queries.flatMap { prefix, seqs in
                try PredictionBatchRecord.filter(Column("tenantId") == tenant && Column("modelName") == name && Column("prefix") == prefix
                                                 && Column("firstSeq") <= seqs.max()! && Column("lastSeq") >= seqs.min()!).fetchAll(db)
            }
        }
        let decoder = JSONDecoder()
        var found: [String: (Int, LoggedPrediction)] = [:]
        for batch in batches {
            guard let seqs = wanted[batch.prefix], seqs.contains(where: { batch.firstSeq <= $0 && $0 <= batch.lastSeq }) else { continue }
            for logged in try decoder.decode([LoggedPrediction].self, from: batch.payload) where seqs.contains(logged.seq) {
                found["\(batch.prefix)-\(logged.seq)"] = (batch.version, logged)
            }
        }
        return found
    }

    /// Drops the in-memory state of a deleted model (one version or all), or of all of a deleted tenant's.
    func forget(tenant: String, name: String?, version: Int?) {
        monitors.withLockedValue { monitors in
            for (key, monitor) in monitors where monitor.tenant == tenant && (name == nil || monitor.name == name) && (version == nil || monitor.version == version) {
                monitors[key] = nil
                DriftGauges(monitor).destroy(features: monitor.reference?.features.map(\.name) ?? [])
            }
        }
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

    /// Writes what every monitor has waiting, so that feedback finds the latest predictions.
    func flush() async throws {
        guard settings.enabled else { return }
        let drained = monitors.withLockedValue { Array($0.values) }.map { ($0, $0.drain()) }.filter { !$0.1.windows.isEmpty || !$0.1.predictions.isEmpty }
        guard !drained.isEmpty else { return }
        let encoder = JSONEncoder()
        try await store.pool.write { db in
            for (monitor, waiting) in drained {
                for window in waiting.windows {
                    var record = MonitoringWindowRecord(id: nil, tenantId: monitor.tenant, modelName: monitor.name, version: monitor.version,
                                                        startedAt: window.startedAt, endedAt: window.endedAt, rows: window.counts.rows,
                                                        counts: try encoder.encode(window.counts))
                    // The tenant or the model may have gone meanwhile: nothing to keep then.
                    guard try self.stillServed(monitor, in: db) else { continue }
                    try record.insert(db)
                }
                guard let first = waiting.predictions.first, let last = waiting.predictions.last, try self.stillServed(monitor, in: db) else { continue }
                var batch = PredictionBatchRecord(id: nil, tenantId: monitor.tenant, modelName: monitor.name, version: monitor.version,
                                                  prefix: self.prefix, firstSeq: first.seq, lastSeq: last.seq, createdAt: first.at,
                                                  payload: try encoder.encode(waiting.predictions))
                try batch.insert(db)
            }
        }
        for (monitor, waiting) in drained {
            guard let reference = monitor.reference else { continue }
            let gauges = DriftGauges(monitor)
            for window in waiting.windows { gauges.update(DriftScores(window.counts, reference: reference, settings: settings)) }
        }
    }

    private func flushLogging() async {
        do { try await flush() } catch { logger.error("monitoring data could not be written; retrying", metadata: ["error": "\(error)"]) }
    }

    /// A tenant's model still exists (demonstration models always do).
    private func stillServed(_ monitor: ModelMonitor, in db: Database) throws -> Bool {
        guard try TenantRecord.fetchOne(db, key: monitor.tenant) != nil else { return false }
        if monitor.isDemonstration { return true }
        return try ModelRecord.filter(Column("tenantId") == monitor.tenant && Column("name") == monitor.name
                                      && Column("version") == monitor.version).fetchCount(db) > 0
    }

    /// Erases windows older than the retention and predictions and outcomes older than their tenant's setting.
    private func prune(now: Date) async {
        let windowsBefore = now.addingTimeInterval(-Double(settings.retentionDays) * 86_400)
        do {
            let erased = try await store.pool.write { db -> Int in
                var erased = try MonitoringWindowRecord.filter(Column("endedAt") < windowsBefore).deleteAll(db)
                for tenant in try TenantRecord.fetchAll(db) {
                    let before = now.addingTimeInterval(-Double(tenant.predictionRetentionDays) * 86_400)
                    erased += try PredictionBatchRecord.filter(Column("tenantId") == tenant.id && Column("createdAt") < before).deleteAll(db)
                    erased += try OutcomeRecord.filter(Column("tenantId") == tenant.id && Column("predictedAt") < before).deleteAll(db)
                }
                return erased
            }
            if erased > 0 { logger.info("monitoring data past its retention erased", metadata: ["records": "\(erased)"]) }
        } catch {
            logger.error("monitoring retention could not be applied", metadata: ["error": "\(error)"])
        }
    }

    private static func key(_ tenant: String, _ name: String, _ version: Int) -> String { "\(tenant)/\(name)@\(version)" }
}

/// A prediction's id, `<prefix>-<sequence>`: the serving process's random prefix (hexadecimal)
/// and the row's number in that process.
struct PredictionID: Hashable, Sendable {
    var prefix: String
    var seq: Int64

    /// `nil` for text that cannot be an id.
    init?(_ text: String) {
        guard text.utf8.count <= 40, let dash = text.lastIndex(of: "-") else { return nil }
        let prefix = text[..<dash], digits = text[text.index(after: dash)...]
        guard (1...16).contains(prefix.utf8.count), prefix.allSatisfy({ $0.isASCII && $0.isHexDigit }),
              (1...18).contains(digits.utf8.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), let seq = Int64(digits) else { return nil }
        (self.prefix, self.seq) = (String(prefix), seq)
    }
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
    let dimensions: [(String, String)]

    init(_ monitor: ModelMonitor) {
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

    func destroy(features: [String]) {
        for feature in features { Gauge(label: "testbed_feature_drift", dimensions: dimensions + [("feature", feature)]).destroy() }
        Gauge(label: "testbed_prediction_drift", dimensions: dimensions).destroy()
        Gauge(label: "testbed_drift_flagged_features", dimensions: dimensions).destroy()
        Counter(label: "testbed_monitored_rows_total", dimensions: dimensions).destroy()
    }
}

import Foundation
import Hummingbird
import InferenceCore

/// `/api/v1/models/{name}/monitoring` and `/feedback`: how a served model's inputs and
/// predictions drift from its training data, and how good its predictions turned out; and
/// `/api/v1/settings`: what is kept of predictions, and for how long.
struct MonitoringRoutes {
    let services: Services

    // MARK: Bodies and answers

    struct FeedbackBody: Decodable {
        struct Outcome: Decodable {
            var predictionId: String
            var actual: JSONCell
            enum CodingKeys: String, CodingKey { case actual; case predictionId = "prediction_id" }
        }
        /// Outcomes of predictions served earlier, by their ids.
        var outcomes: [Outcome]?
        /// Or rows with the actual value in the target column: predicted now by the serving version.
        var rows: [[String: JSONCell]]?
    }

    struct FeedbackAnswer: ResponseEncodable, Decodable {
        var model: String
        var accepted: Int
        /// Outcomes that replaced one reported earlier for the same prediction.
        var replaced: Int
        /// Rows sent with their outcome: the ids they were given.
        var predictionIds: [String]?
        var live: [LiveQuality]
        enum CodingKeys: String, CodingKey { case model, accepted, replaced, live; case predictionIds = "prediction_ids" }
    }

    struct QuantityView: Codable {
        var name: String
        var kind: String
        var bins: [String]
        var shares: [Double]
    }

    struct WindowView: Codable {
        struct Score: Codable {
            var name: String
            var psi: Double
            var band: String
            var flagged: Bool
            var shares: [Double]
            var missingShare: Double
            var outsideShare: Double?
            enum CodingKeys: String, CodingKey {
                case name, psi, band, flagged, shares
                case missingShare = "missing_share", outsideShare = "outside_share"
            }
        }
        var start: Date
        var end: Date
        var rows: Int
        /// The window still counting (never flagged: it is not complete).
        var open: Bool
        var prediction: Score
        var features: [Score]
    }

    struct FeatureDrift: Codable {
        var name: String
        /// PSI in the latest window with enough rows, and the highest in any window kept.
        var psi: Double?
        var maxPsi: Double?
        var flaggedWindows: Int
        enum CodingKeys: String, CodingKey { case name, psi; case maxPsi = "max_psi", flaggedWindows = "flagged_windows" }
    }

    struct MonitoringView: ResponseEncodable, Decodable {
        struct Settings: Codable {
            var enabled: Bool
            var psiThreshold: Double
            var minRows: Int
            var windowRows: Int
            var windowSeconds: Double
            var retentionDays: Int
            enum CodingKeys: String, CodingKey {
                case enabled
                case psiThreshold = "psi_threshold", minRows = "min_rows", windowRows = "window_rows"
                case windowSeconds = "window_seconds", retentionDays = "retention_days"
            }
        }
        var model: String
        var version: Int
        var servingVersion: Int
        var settings: Settings
        /// Why there are no windows, when there cannot be any.
        var note: String?
        var reference: [QuantityView]
        var predictionReference: QuantityView?
        /// Rows in the windows of this answer.
        var rowsSeen: Int
        /// Features flagged in the latest window with enough rows, most drifted first.
        var flaggedFeatures: [String]
        var predictionFlagged: Bool
        /// Every feature, most drifted first.
        var drift: [FeatureDrift]
        var windows: [WindowView]
        var live: LiveQuality
        enum CodingKeys: String, CodingKey {
            case model, version, settings, note, reference, drift, windows, live
            case servingVersion = "serving_version", predictionReference = "prediction_reference", rowsSeen = "rows_seen"
            case flaggedFeatures = "flagged_features", predictionFlagged = "prediction_flagged"
        }
    }

    struct RetentionView: ResponseEncodable, Decodable {
        var predictionRetentionDays: Int
        var logInputs: Bool
        enum CodingKeys: String, CodingKey { case predictionRetentionDays = "prediction_retention_days", logInputs = "log_inputs" }
    }

    struct RetentionChange: Decodable {
        var predictionRetentionDays: Int?
        var logInputs: Bool?
        enum CodingKeys: String, CodingKey { case predictionRetentionDays = "prediction_retention_days", logInputs = "log_inputs" }
    }

    // MARK: Routes

    func add(to router: RouterGroup<TestbedContext>) {
        router.get("models/{name}/monitoring") { request, context -> MonitoringView in
            let (tenant, name) = (try context.tenant(), try context.parameters.require("name"))
            let version = try request.query("version").map(VersionNumber.required)
            let served = try await services.registry.find(name, version: version, for: tenant)
            let versions = try await services.registry.versions(of: name, for: tenant)
            return try await monitoring(served, tenant: tenant, servingVersion: versions.serving)
        }
        router.post("models/{name}/feedback") { request, context -> FeedbackAnswer in
            let (tenant, name) = (try context.tenant(), try context.parameters.require("name"))
            let served = try await services.registry.find(name, for: tenant)
            let body = try await request.decodeJSON(FeedbackBody.self, limit: services.limits.maxRequestBytes,
                                                    expected: #"{"outcomes": [{"prediction_id": "…", "actual": value}]} or {"rows": [{…, "<target>": actual}]}"#)
            return try await feedback(body, served: served, tenant: tenant)
        }
        router.get("settings") { _, context -> RetentionView in
            let tenant = try context.tenant()
            guard let record = try await services.store.tenant(tenant) else { throw StoreError.notFound(.tenant(tenant)) }
            return RetentionView(predictionRetentionDays: record.predictionRetentionDays, logInputs: record.logInputs)
        }
        router.put("settings") { request, context -> RetentionView in
            let tenant = try context.tenant()
            let change = try await request.decodeJSON(RetentionChange.self, limit: services.limits.maxRequestBytes,
                                                      expected: #"{"prediction_retention_days": 30, "log_inputs": false}"#)
            if let days = change.predictionRetentionDays, !(1...3_650).contains(days) {
                throw APIError.badRequest("prediction_retention_days == \(days); expected 1 to 3650", code: "invalid_parameter")
            }
            let record = try await services.store.updateSettings(of: tenant, retentionDays: change.predictionRetentionDays, logInputs: change.logInputs)
            services.monitoring.setLogInputs(record.logInputs, tenant: tenant)
            return RetentionView(predictionRetentionDays: record.predictionRetentionDays, logInputs: record.logInputs)
        }
    }

    // MARK: Monitoring

    /// Windows in an answer, the latest: a week when windows close hourly.
    static let maxWindows = 168

    private func monitoring(_ served: ServedModel, tenant: String, servingVersion: Int) async throws -> MonitoringView {
        let settings = services.monitoring.settings
        let records = try await services.store.monitoringWindows(of: served.name, version: served.version, tenant: tenant, limit: Self.maxWindows)
        let decoder = JSONDecoder()
        var windows = try records.reversed().map { MonitoringWindow(counts: try decoder.decode(DriftCounts.self, from: $0.counts), startedAt: $0.startedAt, endedAt: $0.endedAt) }
        if let open = services.monitoring.openWindow(tenant: tenant, name: served.name, version: served.version) { windows.append(open) }
        let live = try await liveQuality(of: served, tenant: tenant)
        let view = MonitoringView.Settings(enabled: settings.enabled, psiThreshold: settings.psiThreshold, minRows: settings.minRows,
                                           windowRows: settings.windowRows, windowSeconds: settings.windowSeconds, retentionDays: settings.retentionDays)
        guard let reference = served.model.training.driftReference else {
            return MonitoringView(model: served.name, version: served.version, servingVersion: servingVersion, settings: view,
                                  note: "this model file has no training distribution to compare with (it was trained before drift monitoring); train it again to monitor it",
                                  reference: [], rowsSeen: 0, flaggedFeatures: [], predictionFlagged: false, drift: [], windows: [], live: live)
        }
        // Windows counted against another training distribution (a demonstration model file
        // replaced under the same version) cannot be compared with this one: left out, and said so.
        let fitting = windows.filter { $0.counts.fits(reference) }
        let closed = fitting.count - (windows.count > records.count && windows.last!.counts.fits(reference) ? 1 : 0)
        let scored = fitting.enumerated().map { index, window in (window, DriftScores(window.counts, reference: reference, settings: settings), index >= closed) }
        let windowViews = scored.map { window, scores, open in
            WindowView(start: window.startedAt, end: window.endedAt, rows: window.counts.rows, open: open,
                       prediction: Self.score(scores.prediction, reference.prediction, counts: window.counts.prediction, outside: nil, rows: window.counts.rows, open: open),
                       features: reference.features.indices.map { index in
                           Self.score(scores.features[index], reference.features[index], counts: window.counts.features[index],
                                      outside: window.counts.outside[index], rows: window.counts.rows, open: open)
                       })
        }
        // The latest window whose figures count: closed, or open, with enough rows.
        let latest = scored.last { $0.0.counts.rows >= settings.minRows }
        let drift = reference.features.indices.map { index in
            FeatureDrift(name: reference.features[index].name, psi: latest?.1.features[index].psi,
                         maxPsi: scored.filter { $0.0.counts.rows >= settings.minRows }.map { $0.1.features[index].psi }.max(),
                         flaggedWindows: scored.filter { !$0.2 && $0.1.features[index].flagged }.count)
        }.sorted { ($0.psi ?? -1) > ($1.psi ?? -1) }
        let flagged = latest.map { latest in
            latest.1.features.filter(\.flagged).sorted { $0.psi > $1.psi }.map(\.name)
        } ?? []
        var note: String?
        if fitting.count < windows.count { note = "\(windows.count - fitting.count) window(s) were counted against an earlier file of this model version and are left out" }
        if !settings.enabled { note = "monitoring is off on this server (--no-monitoring)" }
        return MonitoringView(model: served.name, version: served.version, servingVersion: servingVersion, settings: view, note: note,
                              reference: reference.features.map(Self.quantity), predictionReference: Self.quantity(reference.prediction),
                              rowsSeen: fitting.reduce(0) { $0 + $1.counts.rows }, flaggedFeatures: flagged,
                              predictionFlagged: latest?.1.prediction.flagged ?? false, drift: drift, windows: windowViews, live: live)
    }

    private static func quantity(_ quantity: DriftReference.Quantity) -> QuantityView {
        QuantityView(name: quantity.name, kind: quantity.kind.rawValue, bins: quantity.binLabels, shares: quantity.shares)
    }

    private static func score(_ score: DriftScores.Score, _ quantity: DriftReference.Quantity, counts: [Int], outside: Int?, rows: Int, open: Bool)
        -> WindowView.Score {
        let total = Double(max(rows, 1))
        return WindowView.Score(name: score.name, psi: score.psi, band: PopulationStability.band(score.psi).rawValue, flagged: score.flagged && !open,
                                shares: counts.map { Double($0) / total }, missingShare: Double(counts.last ?? 0) / total,
                                outsideShare: quantity.kind == .numeric ? Double(outside ?? 0) / total : nil)
    }

    // MARK: Feedback

    /// Outcomes read for the per-day figures, at most: the latest ones.
    static let maxOutcomesRead = 20_000

    /// `served`'s live quality from the outcomes reported for its predictions, newest first.
    private func liveQuality(of served: ServedModel, tenant: String) async throws -> LiveQuality {
        let latest = services.monitoring.settings.liveOutcomes
        let records = try await services.store.outcomes(of: served.name, version: served.version, tenant: tenant, limit: max(latest, Self.maxOutcomesRead))
        let decoder = JSONDecoder()
        let outcomes = records.compactMap { record -> LiveQuality.Outcome? in
            guard let predicted = try? decoder.decode(LoggedPrediction.self, from: record.predicted),
                  let actual = Self.actualValue(record.actual, model: served.model) else { return nil }
            return LiveQuality.Outcome(predicted: predicted, actual: actual)
        }
        return LiveQuality(version: served.version, model: served.model, outcomes: outcomes, latest: latest)
    }

    /// A stored actual as the metrics take it: the number, or the class index.
    static func actualValue(_ text: String, model: TrainedModel) -> Double? {
        switch model.task {
        case .regression: return Double(text)
        case .classification: return model.classes.firstIndex(of: text).map(Double.init)
        }
    }

    static let largestActual = 1e100

    /// Checks an actual value against the model's target: a finite number, or one of its classes.
    static func actualText(_ cell: JSONCell, model: TrainedModel, at field: String) throws -> String {
        switch model.task {
        case .regression:
            let number: Double? = switch cell {
            case .number(let value): value
            // Plain decimal text only: Double("0x10") would read hexadecimal.
            case .string(let text): text.utf8.allSatisfy({ (48...57).contains($0) || "+-.eE".utf8.contains($0) }) ? Double(text) : nil
            default: nil
            }
            // Bounded so that squared errors stay finite: no real outcome is near 1e100.
            guard let number, number.isFinite, abs(number) <= Self.largestActual else {
                throw APIError.doesNotFit("\(field): expected the actual '\(model.target.clipped())' as a finite number of magnitude at most 1e100, found \(Self.describe(cell))", code: "invalid_parameter")
            }
            return formatNumber(number)
        case .classification:
            guard let label = cell.text, model.classes.contains(label) else {
                throw APIError.doesNotFit("\(field): \(Self.describe(cell)) is not one of the classes of '\(model.target.clipped())': \(model.classes.map { "'\($0.clipped())'" }.joined(separator: ", "))", code: "invalid_parameter")
            }
            return label
        }
    }

    private static func describe(_ cell: JSONCell) -> String {
        switch cell {
        case .null: return "null"
        case .number(let value): return "the number \(formatNumber(value))"
        case .string(let text): return "'\(text.clipped())'"
        case .bool(let flag): return flag ? "true" : "false"
        }
    }

    /// Checks every outcome before anything is written; then writes them all in one transaction.
    private func feedback(_ body: FeedbackBody, served: ServedModel, tenant: String) async throws -> FeedbackAnswer {
        guard services.monitoring.settings.enabled else {
            throw APIError.conflict("monitoring is off on this server (--no-monitoring): predictions carry no ids and outcomes cannot be matched")
        }
        let count = (body.outcomes?.count ?? 0) + (body.rows?.count ?? 0)
        guard (body.outcomes == nil) != (body.rows == nil), count > 0 else {
            throw APIError.badRequest(#"send either "outcomes": [{"prediction_id": "…", "actual": value}] or "rows": [{…, "<target>": actual}], with at least one entry"#, code: "invalid_parameter")
        }
        try services.limits.checkRows(count)
        let records: [OutcomeRecord]
        if let outcomes = body.outcomes {
            records = try await self.outcomes(outcomes, served: served, tenant: tenant)
        } else {
            records = try await rows(body.rows ?? [], served: served, tenant: tenant)
        }
        // A version deleted since its predictions were found takes its outcomes with it.
        let (replaced, versions) = try await services.store.saveOutcomes(records, of: served.name, tenant: tenant, checkVersions: !served.isDemonstration)
        var live: [LiveQuality] = []
        for version in versions {
            let versioned = try await services.registry.find(served.name, version: version, for: tenant)
            live.append(try await liveQuality(of: versioned, tenant: tenant))
        }
        let newIDs = body.rows == nil ? nil : records.map(\.predictionId)
        return FeedbackAnswer(model: served.name, accepted: records.count, replaced: replaced, predictionIds: newIDs, live: live)
    }

    /// Outcomes by prediction id: each id found among the model's logged predictions, each
    /// actual checked against the version that made the prediction. The last of repeated ids counts.
    private func outcomes(_ outcomes: [FeedbackBody.Outcome], served: ServedModel, tenant: String) async throws -> [OutcomeRecord] {
        let ids = try outcomes.enumerated().map { index, outcome -> PredictionID in
            guard let id = PredictionID(outcome.predictionId) else {
                throw APIError.notFound("outcomes[\(index)]: '\(outcome.predictionId.clipped())' is not a prediction of '\(served.name.clipped())' (a prediction id looks like 5f3a9c21-17, as /predict answered it)")
            }
            return id
        }
        let found = try await services.monitoring.findPredictions(ids, tenant: tenant, name: served.name)
        var models: [Int: TrainedModel] = [:]
        var latest: [PredictionID: Int] = [:]
        for (index, id) in ids.enumerated() { latest[id] = index }
        let now = Date(), encoder = JSONEncoder()
        var records: [OutcomeRecord] = []
        for (index, outcome) in outcomes.enumerated() where latest[ids[index]] == index {
            guard let (version, logged) = found[ids[index]] else {
                throw APIError.notFound("outcomes[\(index)]: prediction id '\(outcome.predictionId.clipped())' is not a prediction of '\(served.name.clipped())' that is still kept (predictions are kept for the tenant's prediction_retention_days)")
            }
            if models[version] == nil { models[version] = try await services.registry.find(served.name, version: version, for: tenant).model }
            let actual = try Self.actualText(outcome.actual, model: models[version]!, at: "outcomes[\(index)].actual")
            records.append(OutcomeRecord(tenantId: tenant, predictionId: ids[index].description, modelName: served.name, version: version,
                                         predictedAt: logged.at, receivedAt: now, predicted: try encoder.encode(logged), actual: actual))
        }
        return records
    }

    /// Rows with their actual value in the target column: predicted now by the serving version,
    /// each given an id, kept with its outcome (they are not counted as drift).
    private func rows(_ rows: [[String: JSONCell]], served: ServedModel, tenant: String) async throws -> [OutcomeRecord] {
        let model = served.model
        let actuals = try rows.enumerated().map { index, row -> String in
            guard let cell = row[model.target] else {
                throw APIError.doesNotFit("rows[\(index)] has no '\(model.target.clipped())', the actual outcome this model predicts")
            }
            return try Self.actualText(cell, model: model, at: "rows[\(index)].\(model.target.clipped())")
        }
        let table = try TableInput.table(fromRows: rows.map { $0.filter { $0.key != model.target } }, limits: services.limits)
        let (predictions, _) = try await Scoring.predict(served, table)
        let encoder = JSONEncoder()
        return try services.monitoring.log(predictions: predictions).enumerated().map { index, entry in
            OutcomeRecord(tenantId: tenant, predictionId: entry.id, modelName: served.name, version: served.version,
                          predictedAt: entry.logged.at, receivedAt: entry.logged.at, predicted: try encoder.encode(entry.logged), actual: actuals[index])
        }
    }
}

import Foundation
import InferenceCore

/// Fuzzes `POST /api/v1/models/{name}/feedback` short of HTTP and the database, for the model the
/// first byte picks (see ``FuzzModels``), the rest being the body: decoded as
/// ``MonitoringRoutes/FeedbackBody``; every actual checked against the model's target; every
/// prediction id parsed; rows made a table, scored, counted into a drift window (as a
/// prediction would be) and measured against their actuals as live quality, with the window's
/// drift scores.
struct FeedbackFuzzing {
    let models: [ServedModel]
    let limits = Limits()

    func run(_ input: UnsafeRawBufferPointer) {
        guard let (served, _, body) = FuzzModels.pick(models, input),
              let request = try? JSONDecoder().decode(MonitoringRoutes.FeedbackBody.self, from: Data(body)) else { return }
        let model = served.model
        for (index, outcome) in (request.outcomes ?? []).enumerated() {
            _ = PredictionID(outcome.predictionId)
            if let text = try? MonitoringRoutes.actualText(outcome.actual, model: model, at: "outcomes[\(index)].actual") {
                // What is stored reads back as the value it was checked to be.
                precondition(MonitoringRoutes.actualValue(text, model: model) != nil, "stored actual '\(text)' does not read back")
            }
        }
        guard let rows = request.rows, !rows.isEmpty, rows.count <= limits.maxRowsPerRequest else { return }
        let actuals = rows.enumerated().compactMap { index, row in
            row[model.target].flatMap { try? MonitoringRoutes.actualText($0, model: model, at: "rows[\(index)]") }
                .flatMap { MonitoringRoutes.actualValue($0, model: model) }
        }
        guard let table = try? TableInput.table(fromRows: rows.map { $0.filter { $0.key != model.target } }, limits: limits),
              let (predictions, _) = waitForAsync({ try await Scoring.predict(served, table) }) else { return }
        if let reference = model.training.driftReference {
            var counts = DriftCounts(reference: reference)
            reference.count(table, predictions: predictions, into: &counts)
            precondition(counts.rows == table.rowCount, "counted \(counts.rows) of \(table.rowCount) rows")
            _ = DriftScores(counts, reference: reference, settings: MonitoringSettings())
        }
        guard actuals.count == predictions.values.count else { return }
        let logged = LoggedPrediction.rows(of: predictions, firstSeq: 0, at: Date())
        let outcomes = actuals.indices.map { LiveQuality.Outcome(predicted: logged[$0], actual: actuals[$0]) }
        _ = LiveQuality(version: 1, model: model, outcomes: outcomes, latest: 500)
    }
}

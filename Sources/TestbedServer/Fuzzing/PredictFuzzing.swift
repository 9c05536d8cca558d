import Foundation
import InferenceCore

/// Fuzzes the pilot's JSON scoring routes short of HTTP, for the model the first byte picks
/// (see ``FuzzModels``), the rest being the body:
///
/// - first byte below 0x80: `POST /api/v1/models/{name}/predict`, the body read as
///   ``ModelRoutes/PredictRequest``, the rows made a table, the decision policy checked, and
///   the rows scored, decided and explained by ``Scoring/rows(_:_:extraWarnings:options:)``;
/// - first byte 0x80 and above: `POST /api/v1/models/{name}/whatif`, the body decoded with
///   `JSONDecoder` as ``ModelRoutes/WhatIfRequest``, the grid built by
///   ``ModelRoutes/whatIfTable(_:model:limits:)``, scored, and its points assembled.
struct PredictFuzzing {
    let models: [ServedModel]
    let limits = Limits()

    func run(_ input: UnsafeRawBufferPointer) {
        guard let (served, whatIf, body) = FuzzModels.pick(models, input) else { return }
        if whatIf {
            runWhatIf(served, body)
        } else {
            runPredict(served, body)
        }
    }

    private func runPredict(_ served: ServedModel, _ body: UnsafeRawBufferPointer) {
        let model = served.model
        guard let request = try? ModelRoutes.PredictRequest(JSONParser.parse(body)),
              let table = try? TableInput.table(fromRows: request.rows, limits: limits),
              let decision = try? DecisionRule(threshold: request.threshold, costs: request.costs, model: model) else { return }
        let extra = TableInput.extraColumnWarnings(request.rows, model: model)
        // The route's `top`: 5 by default; below 1 refused; at most one per feature.
        var explainTop: Int?
        if request.explain {
            let top = request.top ?? 5
            guard top >= 1 else { return }
            explainTop = min(top, model.features.count)
        }
        let options = Scoring.Options(decision: decision, explainTop: explainTop)
        guard let (_, _, predictions) = waitForAsync({ try await Scoring.rows(served, table, extraWarnings: extra, options: options) }),
              let reference = model.training.driftReference else { return }
        // What monitoring does with every served batch.
        var counts = DriftCounts(reference: reference)
        reference.count(table, predictions: predictions, into: &counts)
        precondition(counts.rows == table.rowCount, "counted \(counts.rows) of \(table.rowCount) rows")
    }

    private func runWhatIf(_ served: ServedModel, _ body: UnsafeRawBufferPointer) {
        let model = served.model
        guard let request = try? JSONDecoder().decode(ModelRoutes.WhatIfRequest.self, from: Data(body)),
              let (_, values, table) = try? ModelRoutes.whatIfTable(request, model: model, limits: limits),
              let (predictions, _) = waitForAsync({ try await Scoring.predict(served, table) }) else { return }
        // The route's points: the value, the prediction, and per class its probability.
        for row in values.indices {
            _ = values[row].text
            if model.task == .classification, let probabilities = predictions.probabilities?.row(row) {
                _ = predictions.labels[row]
                _ = Dictionary(uniqueKeysWithValues: zip(model.classes, probabilities))
            } else {
                _ = predictions.values[row]
            }
        }
    }
}

#if FUZZING
import InferenceCore

/// Fuzzes `POST /api/v1/models/{name}/predict` with a JSON body short of HTTP: the body read as
/// ``ModelRoutes/PredictRequest``, the rows made a table, the decision policy checked, the rows
/// scored, explained when asked, and decided as ``Scoring`` does. The first byte picks the model
/// (see ``FuzzModels``); the rest is the body.
struct PredictFuzzing {
    let models: [TrainedModel]
    let limits = Limits()

    func run(_ input: UnsafeRawBufferPointer) {
        guard let (model, _, body) = FuzzModels.pick(models, input) else { return }
        guard let request = try? ModelRoutes.PredictRequest(JSONParser.parse(body)),
              let table = try? TableInput.table(fromRows: request.rows, limits: limits) else { return }
        _ = TableInput.extraColumnWarnings(request.rows, model: model)
        guard let decision = try? DecisionPolicy(threshold: request.threshold, costs: request.costs, model: model),
              let predictions = try? model.predict(table, missingColumns: .impute) else { return }
        // The route's `top`: 5 by default, at least 1, at most one per feature.
        let top = request.explain ? (request.top ?? 5) : nil
        let explanation = top.flatMap { $0 >= 1 ? try? model.explain(table, predictions: predictions, missingColumns: .impute) : nil }
        for row in predictions.values.indices {
            if model.task == .classification, let probabilities = predictions.probabilities?.row(row) {
                _ = predictions.labels[row]
                _ = model.classes[decision.decide(probabilities)]
            }
            if let explanation, let top {
                _ = explanation.base[row]
                _ = explanation.top(min(top, model.features.count), row: row)
            }
        }
    }
}
#endif

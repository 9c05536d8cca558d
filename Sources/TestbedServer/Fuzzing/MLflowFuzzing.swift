import InferenceCore

/// Fuzzes `POST /invocations` short of HTTP: a JSON body in MLflow's shapes read into the model's
/// input table as the route reads it, its columns checked, and the model scored through
/// ``Scoring``. The first byte picks the model (see ``FuzzModels``); the rest is the body.
struct MLflowFuzzing {
    let models: [ServedModel]
    let limits = Limits()

    func run(_ input: UnsafeRawBufferPointer) {
        guard let (served, _, body) = FuzzModels.pick(models, input) else { return }
        guard let json = try? JSONParser.parse(body),
              let table = try? MLflowInput.table(json, model: served.model, limits: limits),
              (try? MLflowInput.checkColumns(table, model: served.model, name: served.name, limits: limits)) != nil,
              let (predictions, _) = waitForAsync({ try await Scoring.predict(served, table) }) else { return }
        precondition(predictions.values.count == table.rowCount, "\(predictions.values.count) predictions for \(table.rowCount) rows")
    }
}

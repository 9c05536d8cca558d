#if FUZZING
import InferenceCore

/// Fuzzes `POST /v2/models/{model}/infer` short of HTTP: the body parsed and decoded as the
/// route does, the table built from the tensors, the model scored, and the outputs assembled.
/// The first byte picks the model (see ``FuzzModels``); the rest is the body.
struct TensorFuzzing {
    typealias P = InferenceProtocol
    let models: [TrainedModel]
    let limits = Limits()

    func run(_ input: UnsafeRawBufferPointer) {
        guard let (model, _, body) = FuzzModels.pick(models, input) else { return }
        guard let request = try? P.InferenceRequest(JSONParser.parse(body)),
              let table = try? TensorInput.table(request.inputs, model: model, limits: limits),
              let predictions = try? model.predict(table, missingColumns: .impute) else { return }
        // As the route answers: labels, INT64 labels when every class is an integer, probabilities.
        let labels = model.task == .classification ? predictions.labels : []
        if model.task == .classification, model.classes.allSatisfy({ Int64($0) != nil }) {
            _ = labels.map { Int64($0)! }
        }
        if let probabilities = predictions.probabilities {
            _ = (0..<predictions.values.count).map { probabilities.row($0) }
        }
    }
}
#endif

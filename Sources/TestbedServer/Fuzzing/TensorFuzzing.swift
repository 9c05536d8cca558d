import InferenceCore

/// Fuzzes `POST /v2/models/{model}/infer` short of HTTP: the body parsed and decoded as the
/// route does, the table built from the tensors, the model scored through ``Scoring``, and the
/// outputs assembled and written as raw bytes as the route does. The first byte picks the model
/// (see ``FuzzModels``); with its high bit set, the body is in the binary data extension's
/// framing, its first two bytes (little-endian) standing for `Inference-Header-Content-Length`.
struct TensorFuzzing {
    typealias P = InferenceProtocol
    let models: [ServedModel]
    let limits = Limits()

    func run(_ input: UnsafeRawBufferPointer) {
        guard let (served, binary, rest) = FuzzModels.pick(models, input) else { return }
        let model = served.model
        var body = rest, headerLength: Int? = nil
        if binary {
            guard rest.count >= 2 else { return }
            (headerLength, body) = (Int(rest[0]) | Int(rest[1]) << 8, UnsafeRawBufferPointer(rebasing: rest.dropFirst(2)))
        }
        guard let request = try? P.InferenceRequest(body: body, headerLength: headerLength),
              let table = try? TensorInput.table(request.inputs, model: model, limits: limits),
              let (predictions, _) = waitForAsync({ try await Scoring.predict(served, table) }) else { return }
        // What monitoring does with every served batch.
        if let reference = model.training.driftReference {
            var counts = DriftCounts(reference: reference)
            reference.count(table, predictions: predictions, into: &counts)
            precondition(counts.rows == table.rowCount, "counted \(counts.rows) of \(table.rowCount) rows")
        }
        // The route's outputs: labels (INT64 when every class is an integer) and probabilities,
        // as the binary extension writes them.
        precondition(RawTensorData.encode(.numbers(predictions.values)).count == 8 * predictions.values.count)
        guard model.task == .classification else { return }
        let labels = predictions.labels
        if let integers = model.integerClasses {
            _ = predictions.values.map { integers[Int($0)] }
        }
        _ = RawTensorData.encode(.strings(labels))
        _ = predictions.probabilities.map { ($0.rows, $0.columns, model.classes.joined(separator: ",")) }
    }
}

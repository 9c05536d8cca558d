/// The fuzz targets: what each one feeds the fuzzer's bytes into.
enum FuzzTarget: String, CaseIterable {
    /// CSV reader, dataset profile and its JSON.
    case csv
    /// The hand-written JSON parser.
    case json
    /// KServe V2 inference bodies, as JSON or in the binary data extension's framing, decoded into
    /// a table and scored, for a model of each family.
    case tensor
    /// `/predict` bodies (and what-if bodies once the grid is exposed), for a model of each family.
    case predict
    /// Model files loaded, then used on one row.
    case modelfile
    /// A training request's split (scheme, gap, folds, time or group column) on a CSV table:
    /// timestamp detection, the folds and the calendar features.
    case split
    /// Feedback bodies (outcomes by prediction id, or rows with their actual value), for a model
    /// of each family: actuals checked, rows scored and counted into a drift window, live quality.
    case feedback
    /// MLflow scoring bodies (`/invocations`) in its four JSON shapes, for a model of each family.
    case mlflow
    /// gRPC ModelInfer messages: protobuf decoding, typed and raw contents, the endpoint, the answer.
    case grpc
    /// `--database` URLs: refused, or read into parts that describe themselves consistently.
    case database

    /// Sets the target up and returns the function libFuzzer calls with each input. `models` gives
    /// the models the target scores with (``FuzzModels/load(root:)``), asked for only by the
    /// targets that score. Inputs the code refuses with an error are fine; only a crash, a
    /// sanitizer report or a timeout is a finding. The tests replay the committed seeds through
    /// it too (`FuzzSeedReplayTests`).
    func makeHarness(models: () throws -> [ServedModel]) throws -> (UnsafeRawBufferPointer) -> Void {
        switch self {
        case .csv: return CSVFuzzing.run
        case .json: return JSONFuzzing.run
        case .tensor: return TensorFuzzing(models: try models()).run
        case .predict: return PredictFuzzing(models: try models()).run
        case .modelfile: return ModelFileFuzzing.run
        case .split: return SplitFuzzing.run
        case .feedback: return FeedbackFuzzing(models: try models()).run
        case .mlflow: return MLflowFuzzing(models: try models()).run
        case .grpc: return try GRPCFuzzing(models: try models()).run
        case .database: return DatabaseURLFuzzing.run
        }
    }
}

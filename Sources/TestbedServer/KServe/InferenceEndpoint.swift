import Foundation
import InferenceCore

/// The Open Inference Protocol's operations for one tenant's view of the models, whatever
/// carries them: REST with JSON or binary tensor data (``KServeRoutes``) or gRPC. Each answers
/// with the protocol's messages or throws an ``APIError`` that the carrier maps to its own status.
struct InferenceEndpoint: Sendable {
    typealias P = InferenceProtocol
    let services: Services

    /// Extensions this server speaks, as the server metadata lists them.
    static let extensions = ["model_repository", "binary_tensor_data"]

    func serverMetadata() -> P.ServerMetadata {
        P.ServerMetadata(name: "applied-ai-testbed", version: TestbedVersion.current, extensions: Self.extensions)
    }

    /// The model `name` at `version` (text from a path or a message; `nil` or empty: the serving
    /// version). With `ready`, a model that is unloaded is refused as unavailable.
    func model(_ name: String, version: String?, tenant: String, ready: Bool) async throws -> ServedModel {
        let number = try version.flatMap { $0.isEmpty ? nil : $0 }.map { text -> Int in
            guard let version = VersionNumber.parse(text) else {
                throw APIError.notFound("model '\(name.clipped())' has no version '\(text.clipped())'; versions are numbered 1, 2, 3, … (GET /v2/models/\(name.clipped()) lists them)")
            }
            return version
        }
        let served = try await services.registry.find(name, version: number, for: tenant)
        if ready { try checkLoaded(served.name, tenant: tenant) }
        return served
    }

    /// Refuses a model that is unloaded (the repository extension's unload) with 409 `not_ready`:
    /// the protocol answers a model that is not ready with a 4xx, and the request conflicts with
    /// the model's state (not the server's health: 503 would send a load balancer elsewhere).
    func checkLoaded(_ name: String, tenant: String) throws {
        guard services.registry.isLoaded(name, for: tenant) else {
            throw APIError(status: .conflict, code: "not_ready",
                           message: "model '\(name.clipped())' is not ready: it was unloaded; POST /v2/repository/models/\(name.clipped())/load loads it")
        }
    }

    /// The version's tensors; `versions` lists every version, the serving one first.
    func metadata(_ served: ServedModel, tenant: String) async throws -> P.ModelMetadata {
        let versions = try await services.registry.versions(of: served.name, for: tenant)
        let model = served.model
        let inputs = model.preprocessor.inputColumns.map { name -> P.TensorMetadata in
            let kind = model.features.first { $0.name == name }?.kind
            return P.TensorMetadata(name: name, datatype: kind == .numeric ? "FP64" : "BYTES", shape: [-1, 1])
        }
        var outputs = [P.TensorMetadata(name: "predict", datatype: labelType(model), shape: [-1])]
        if model.task == .classification {
            outputs.append(P.TensorMetadata(name: "predict_proba", datatype: "FP64", shape: [-1, model.classes.count]))
        }
        if let conformal = model.training.evaluation?.conformal {
            outputs.append(conformal.halfWidth != nil
                ? P.TensorMetadata(name: "predict_interval", datatype: "FP64", shape: [-1, 2])
                : P.TensorMetadata(name: "predict_set", datatype: "BOOL", shape: [-1, model.classes.count]))
        }
        var parameters = ["task": model.task.rawValue, "target": model.target, "algorithm": model.algorithm,
                          "feature_order": model.preprocessor.inputColumns.joined(separator: ",")]
        if let conformal = model.training.evaluation?.conformal { parameters["coverage"] = formatNumber(conformal.coverage) }
        if model.task == .classification { parameters["classes"] = model.classes.joined(separator: ",") }
        parameters["version"] = "\(served.version)"
        parameters["serving_version"] = "\(versions.serving)"
        let others = versions.records.map(\.version).filter { $0 != versions.serving }.sorted(by: >)
        return P.ModelMetadata(name: served.name, versions: ([versions.serving] + others).map(String.init), platform: "applied-ai-testbed",
                               inputs: inputs, outputs: outputs, parameters: parameters)
    }

    /// Scores the request's tensors with `served` and answers the requested outputs.
    func infer(_ request: P.InferenceRequest, served: ServedModel, tenant: String) async throws -> P.InferenceResponse {
        let model = served.model
        let conformal = model.training.evaluation?.conformal
        let band = conformal == nil ? [] : model.task == .classification ? ["predict_set"] : ["predict_interval"]
        let available = (model.task == .classification ? ["predict", "predict_proba"] : ["predict"]) + band
        // No outputs named (left out or empty): all of them, as the protocol's clients expect.
        let requested = request.outputs.flatMap { $0.isEmpty ? nil : $0 } ?? available.map { P.RequestedOutput(name: $0, binary: nil) }

        // Names the protocol allows but this model does not have: 422, as below.
        if let unknown = requested.first(where: { !available.contains($0.name) }) {
            throw APIError.doesNotFit("output '\(unknown.name.clipped())' is not known; this model's outputs are \(available)")
        }
        // Known names only by now (at most four): a set finds a repeated one in linear time.
        if Set(requested.map(\.name)).count < requested.count {
            throw APIError.doesNotFit("an output is requested twice: \(requested.map(\.name))")
        }
        // Tensors that are well formed but do not fit this model (its columns, its width, a datatype
        // for a column) are 422, as the pilot API answers what fits the API but not the resource.
        let table = try APIError.unprocessable { try TensorInput.table(request.inputs, model: model, limits: services.limits) }
        let (predictions, _) = try await Scoring.predict(served, table)
        let rows = predictions.values.count
        let outputs = requested.map { output -> P.OutputTensor in
            var tensor = outputTensor(output.name, model: model, predictions: predictions, rows: rows, coverage: conformal?.coverage ?? 0)
            tensor.binary = output.binary ?? request.binaryOutputs
            return tensor
        }
        let ids = services.monitoring.record(served, tenant: tenant, table: table, predictions: predictions)
        return P.InferenceResponse(modelName: served.name, modelVersion: "\(served.version)", id: request.id,
                                   parameters: ids.map { ["prediction_ids": $0.joined(separator: ",")] }, outputs: outputs)
    }

    private func outputTensor(_ name: String, model: TrainedModel, predictions: Predictions, rows: Int, coverage: Double) -> P.OutputTensor {
        if name == "predict_proba", let probabilities = predictions.probabilities {
            return P.OutputTensor(name: name, shape: [rows, model.classes.count], datatype: "FP64",
                                  parameters: ["classes": model.classes.joined(separator: ",")], data: .numbers(probabilities.storage))
        }
        if name == "predict_interval", let intervals = predictions.intervals {
            return P.OutputTensor(name: name, shape: [rows, 2], datatype: "FP64", parameters: ["coverage": formatNumber(coverage)],
                                  data: .numbers(intervals.flatMap { [$0.lower, $0.upper] }))
        }
        if name == "predict_set", let sets = predictions.predictionSets {
            // Row-major membership: true where the class (in predict_proba's order) is in the set.
            var member = [Bool](repeating: false, count: rows * model.classes.count)
            for (row, set) in sets.enumerated() { for label in set { member[row * model.classes.count + label] = true } }
            return P.OutputTensor(name: name, shape: [rows, model.classes.count], datatype: "BOOL",
                                  parameters: ["coverage": formatNumber(coverage), "classes": model.classes.joined(separator: ",")], data: .booleans(member))
        }
        switch (model.task, labelType(model)) {
        case (.regression, _): return P.OutputTensor(name: name, shape: [rows], datatype: "FP64", data: .numbers(predictions.values))
        case (_, "INT64"):
            let integers = model.integerClasses!
            return P.OutputTensor(name: name, shape: [rows], datatype: "INT64", data: .integers(predictions.values.map { integers[Int($0)] }))
        default: return P.OutputTensor(name: name, shape: [rows], datatype: "BYTES", data: .strings(predictions.labels))
        }
    }

    /// Class labels that are all integers travel as INT64 (as scikit-learn's would), others as BYTES.
    private func labelType(_ model: TrainedModel) -> String {
        if model.task == .regression { return "FP64" }
        return model.integerClasses != nil ? "INT64" : "BYTES"
    }

    /// Every model the tenant may use, with whether it is loaded (the repository extension's index).
    func repositoryIndex(tenant: String) async throws -> [P.RepositoryEntry] {
        try await services.registry.list(for: tenant).map { served in
            let loaded = services.registry.isLoaded(served.name, for: tenant)
            return P.RepositoryEntry(name: served.name, version: "\(served.version)", state: loaded ? "READY" : "UNAVAILABLE",
                                     reason: loaded ? "" : "unloaded")
        }
    }

    func load(_ name: String, tenant: String) async throws {
        try await services.registry.load(name, for: tenant)
    }

    func unload(_ name: String, tenant: String) async throws {
        try await services.registry.unload(name, for: tenant)
    }
}

import Foundation
import Hummingbird
import InferenceCore

/// The Open Inference Protocol (KServe V2) over REST, with the model repository extension, so
/// that clients written for KServe, MLServer or Triton work unchanged.
struct KServeRoutes {
    typealias P = InferenceProtocol
    let services: Services

    /// `/v2/health/*`: no key needed, as load balancers and orchestrators call them.
    func addHealth(to router: Router<TestbedContext>) {
        router.get("v2/health/live") { _, _ in P.LiveState(live: true) }
        router.get("v2/health/ready") { _, _ in P.ReadyState(name: nil, ready: true) }
    }

    func add(to router: RouterGroup<TestbedContext>) {
        router.get("") { _, _ in
            P.ServerMetadata(name: "applied-ai-testbed", version: TestbedVersion.current, extensions: ["model_repository"])
        }
        for prefix in ["models/{model}", "models/{model}/versions/{version}"] {
            router.get(RouterPath(prefix)) { _, context in
                let served = try await model(context, ready: false)
                return try metadata(served, versions: try await services.registry.versions(of: served.name, for: context.tenant()))
            }
            router.get(RouterPath(prefix + "/ready")) { _, context in
                let served = try await model(context, ready: false)
                guard services.registry.isLoaded(served.name, for: try context.tenant()) else {
                    throw APIError.unavailable("model '\(served.name)' is not loaded; POST /v2/repository/models/\(served.name)/load loads it")
                }
                return P.ReadyState(name: served.name, ready: true)
            }
            router.post(RouterPath(prefix + "/infer")) { request, context in
                let served = try await model(context, ready: true)
                let buffer = try await request.collectBody(limit: services.limits.maxRequestBytes)
                let body = try P.InferenceRequest(buffer.withUnsafeReadableBytes { try JSONParser.parse($0) })
                return try await infer(body, served: served, tenant: try context.tenant())
            }
        }
        router.post("repository/index") { _, context -> [P.RepositoryEntry] in
            let tenant = try context.tenant()
            return try await services.registry.list(for: tenant).map { served in
                let loaded = services.registry.isLoaded(served.name, for: tenant)
                return P.RepositoryEntry(name: served.name, version: "\(served.version)", state: loaded ? "READY" : "UNAVAILABLE",
                                         reason: loaded ? "" : "unloaded")
            }
        }
        router.post("repository/models/{model}/load") { _, context -> P.Empty in
            try await services.registry.load(context.parameters.require("model"), for: context.tenant())
            return P.Empty()
        }
        router.post("repository/models/{model}/unload") { _, context -> P.Empty in
            try await services.registry.unload(context.parameters.require("model"), for: context.tenant())
            return P.Empty()
        }
    }

    /// The model named in the path, at the version in the path or its serving one.
    private func model(_ context: TestbedContext, ready: Bool) async throws -> ServedModel {
        let (tenant, name) = (try context.tenant(), try context.parameters.require("model"))
        let version = try context.parameters.get("version").map { text -> Int in
            guard let version = VersionNumber.parse(text) else {
                throw APIError.notFound("model '\(name.clipped())' has no version '\(text.clipped())'; versions are numbered 1, 2, 3, … (GET /v2/models/\(name.clipped()) lists them)")
            }
            return version
        }
        let served = try await services.registry.find(name, version: version, for: tenant)
        if ready, !services.registry.isLoaded(name, for: tenant) {
            throw APIError.unavailable("model '\(name)' is not loaded; POST /v2/repository/models/\(name)/load loads it")
        }
        return served
    }

    /// The served version's tensors; `versions` lists every version, the serving one first.
    private func metadata(_ served: ServedModel, versions: ModelVersions) throws -> P.ModelMetadata {
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

    private func infer(_ request: P.InferenceRequest, served: ServedModel, tenant: String) async throws -> P.InferenceResponse {
        let model = served.model
        let conformal = model.training.evaluation?.conformal
        let band = conformal == nil ? [] : model.task == .classification ? ["predict_set"] : ["predict_interval"]
        let available = (model.task == .classification ? ["predict", "predict_proba"] : ["predict"]) + band
        // No outputs named (left out or empty): all of them, as the protocol's clients expect.
        let requested = request.outputs.flatMap { $0.isEmpty ? nil : $0 } ?? available

        if let unknown = requested.first(where: { !available.contains($0) }) {
            throw APIError.badRequest("output '\(unknown.clipped())' is not known; this model's outputs are \(available)")
        }
        // Known names only by now (at most four): a set finds a repeated one in linear time.
        if Set(requested).count < requested.count {
            throw APIError.badRequest("an output is requested twice: \(requested)")
        }
        let table = try TensorInput.table(request.inputs, model: model, limits: services.limits)
        let (predictions, _) = try await Scoring.predict(served, table)
        let rows = predictions.values.count
        let outputs = requested.map { name -> P.OutputTensor in
            if name == "predict_proba", let probabilities = predictions.probabilities {
                return P.OutputTensor(name: name, shape: [rows, model.classes.count], datatype: "FP64",
                                      parameters: ["classes": model.classes.joined(separator: ",")], data: .numbers(probabilities.storage))
            }
            let coverage = ["coverage": formatNumber(conformal?.coverage ?? 0)]
            if name == "predict_interval", let intervals = predictions.intervals {
                return P.OutputTensor(name: name, shape: [rows, 2], datatype: "FP64", parameters: coverage,
                                      data: .numbers(intervals.flatMap { [$0.lower, $0.upper] }))
            }
            if name == "predict_set", let sets = predictions.predictionSets {
                // Row-major membership: true where the class (in predict_proba's order) is in the set.
                var member = [Bool](repeating: false, count: rows * model.classes.count)
                for (row, set) in sets.enumerated() { for label in set { member[row * model.classes.count + label] = true } }
                return P.OutputTensor(name: name, shape: [rows, model.classes.count], datatype: "BOOL",
                                      parameters: coverage.merging(["classes": model.classes.joined(separator: ",")]) { a, _ in a }, data: .booleans(member))
            }
            switch (model.task, labelType(model)) {
            case (.regression, _): return P.OutputTensor(name: name, shape: [rows], datatype: "FP64", data: .numbers(predictions.values))
            case (_, "INT64"): return P.OutputTensor(name: name, shape: [rows], datatype: "INT64", data: .integers(predictions.labels.map { Int64($0)! }))
            default: return P.OutputTensor(name: name, shape: [rows], datatype: "BYTES", data: .strings(predictions.labels))
            }
        }
        let ids = services.monitoring.record(served, tenant: tenant, table: table, predictions: predictions)
        return P.InferenceResponse(modelName: served.name, modelVersion: "\(served.version)", id: request.id,
                                   parameters: ids.map { ["prediction_ids": $0.joined(separator: ",")] }, outputs: outputs)
    }

    /// Class labels that are all integers travel as INT64 (as scikit-learn's would), others as BYTES.
    private func labelType(_ model: TrainedModel) -> String {
        if model.task == .regression { return "FP64" }
        return model.classes.allSatisfy { Int64($0) != nil } ? "INT64" : "BYTES"
    }
}

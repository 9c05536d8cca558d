import Foundation
import HTTPTypes
import Hummingbird
import InferenceCore

/// The Open Inference Protocol (KServe V2) over REST, with the model repository and binary tensor
/// data extensions, so that clients written for KServe, MLServer or Triton work unchanged.
struct KServeRoutes {
    typealias P = InferenceProtocol
    let services: Services
    var endpoint: InferenceEndpoint { InferenceEndpoint(services: services) }

    /// `/v2/health/*`: no key needed, as load balancers and orchestrators call them.
    func addHealth(to router: Router<TestbedContext>) {
        router.get("v2/health/live") { _, _ in P.LiveState(live: true) }
        router.get("v2/health/ready") { _, _ in P.ReadyState(name: nil, ready: true) }
    }

    func add(to router: RouterGroup<TestbedContext>) {
        router.get("") { _, _ in endpoint.serverMetadata() }
        for prefix in ["models/{model}", "models/{model}/versions/{version}"] {
            router.get(RouterPath(prefix)) { _, context in
                let tenant = try context.tenant()
                return try await endpoint.metadata(try await model(context, ready: false), tenant: tenant)
            }
            router.get(RouterPath(prefix + "/ready")) { _, context in
                let served = try await model(context, ready: true)
                return P.ReadyState(name: served.name, ready: true)
            }
            router.post(RouterPath(prefix + "/infer")) { request, context in
                let served = try await model(context, ready: true)
                let buffer = try await request.collectBody(limit: services.limits.maxRequestBytes)
                let headerLength = try request.inferenceHeaderLength()
                let body = try buffer.withUnsafeReadableBytes { try P.InferenceRequest(body: $0, headerLength: headerLength) }
                return try await endpoint.infer(body, served: served, tenant: try context.tenant())
            }
        }
        router.post("repository/index") { _, context -> [P.RepositoryEntry] in
            try await endpoint.repositoryIndex(tenant: context.tenant())
        }
        router.post("repository/models/{model}/load") { _, context -> P.Empty in
            try await endpoint.load(context.parameters.require("model"), tenant: context.tenant())
            return P.Empty()
        }
        router.post("repository/models/{model}/unload") { _, context -> P.Empty in
            try await endpoint.unload(context.parameters.require("model"), tenant: context.tenant())
            return P.Empty()
        }
    }

    /// The model named in the path, at the version in the path or its serving one.
    private func model(_ context: TestbedContext, ready: Bool) async throws -> ServedModel {
        try await endpoint.model(context.parameters.require("model"), version: context.parameters.get("version"),
                                 tenant: context.tenant(), ready: ready)
    }
}

extension Request {
    /// `Inference-Header-Content-Length`: the length of the JSON header before binary tensor data;
    /// `nil` when the body is JSON alone.
    func inferenceHeaderLength() throws -> Int? {
        guard let text = headers[.inferenceHeaderContentLength] else { return nil }
        guard let length = Int(text.trimmingCharacters(in: .whitespaces)), length >= 0 else {
            throw APIError.badRequest("Inference-Header-Content-Length must be a whole number of bytes, not '\(text.clipped(to: 40))'")
        }
        return length
    }
}

extension HTTPField.Name {
    /// The binary tensor data extension's header: how many bytes of the body are the JSON header.
    static let inferenceHeaderContentLength = Self("Inference-Header-Content-Length")!
}

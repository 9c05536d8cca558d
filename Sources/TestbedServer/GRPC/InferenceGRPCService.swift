import GRPCCore
import SwiftProtobuf
import InferenceCore

/// `inference.GRPCInferenceService`: the Open Inference Protocol's RPCs and Triton's repository
/// RPCs, each mapped onto what the REST side does through ``InferenceEndpoint``. Health RPCs
/// need no key, as `/v2/health/*` does not; every other RPC reads the tenant from the
/// `authorization` metadata. Errors are thrown as ``APIError`` and become statuses in
/// ``StatusInterceptor``.
struct InferenceGRPCService: Inference_GRPCInferenceService.ServiceProtocol {
    typealias P = InferenceProtocol
    let services: Services

    private var endpoint: InferenceEndpoint { InferenceEndpoint(services: services) }

    func serverLive(request: ServerRequest<Inference_ServerLiveRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ServerLiveResponse> {
        ServerResponse(message: .with { $0.live = true })
    }

    func serverReady(request: ServerRequest<Inference_ServerReadyRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ServerReadyResponse> {
        ServerResponse(message: .with { $0.ready = true })
    }

    /// Ready is false for a model of the tenant's view that is unloaded; a model outside the view is NOT_FOUND.
    func modelReady(request: ServerRequest<Inference_ModelReadyRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelReadyResponse> {
        let tenant = try await services.access.tenant(request.metadata)
        let served = try await endpoint.model(request.message.name, version: request.message.version, tenant: tenant, ready: false)
        let ready = services.registry.isLoaded(served.name, for: tenant)
        return ServerResponse(message: .with { $0.ready = ready })
    }

    func serverMetadata(request: ServerRequest<Inference_ServerMetadataRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ServerMetadataResponse> {
        // A key but no tenant, as REST's GET /v2: the admin key may read it.
        _ = try await services.access.caller(authorization: request.metadata.authorization)
        let metadata = endpoint.serverMetadata()
        return ServerResponse(message: .with {
            $0.name = metadata.name
            $0.version = metadata.version
            $0.extensions = metadata.extensions
        })
    }

    /// The message has no `parameters` (KServe's definition leaves them out); the REST answer's
    /// task, classes and feature order are there and in `/api/v1/models/{name}`.
    func modelMetadata(request: ServerRequest<Inference_ModelMetadataRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelMetadataResponse> {
        let tenant = try await services.access.tenant(request.metadata)
        let served = try await endpoint.model(request.message.name, version: request.message.version, tenant: tenant, ready: false)
        let metadata = try await endpoint.metadata(served, tenant: tenant)
        func tensors(_ list: [P.TensorMetadata]) -> [Inference_ModelMetadataResponse.TensorMetadata] {
            list.map { tensor in .with { $0.name = tensor.name; $0.datatype = tensor.datatype; $0.shape = tensor.shape.map(Int64.init) } }
        }
        return ServerResponse(message: .with {
            $0.name = metadata.name
            $0.versions = metadata.versions
            $0.platform = metadata.platform
            $0.inputs = tensors(metadata.inputs)
            $0.outputs = tensors(metadata.outputs)
        })
    }

    func modelInfer(request: ServerRequest<Inference_ModelInferRequest>, context: ServerContext) async throws -> ServerResponse<Inference_ModelInferResponse> {
        let tenant = try await services.access.tenant(request.metadata)
        return ServerResponse(message: try await infer(request.message, tenant: tenant))
    }

    /// ModelInfer once the caller is known (the `grpc` fuzz target starts here): as over REST,
    /// the model first (NOT_FOUND, UNAVAILABLE), then what the request carries.
    func infer(_ message: Inference_ModelInferRequest, tenant: String) async throws -> Inference_ModelInferResponse {
        let served = try await endpoint.model(message.modelName, version: message.modelVersion, tenant: tenant, ready: true)
        let inference = try P.InferenceRequest(grpc: message)
        let response = try await endpoint.infer(inference, served: served, tenant: tenant)
        return Inference_ModelInferResponse(response, raw: Inference_ModelInferResponse.rawOutputs(for: inference))
    }

    /// `ready`: only the models ready for inference. There is one repository (the tenant's view);
    /// `repository_name` is accepted empty or as any name, as tritonclient sends it empty.
    func repositoryIndex(request: ServerRequest<Inference_RepositoryIndexRequest>, context: ServerContext) async throws -> ServerResponse<Inference_RepositoryIndexResponse> {
        let tenant = try await services.access.tenant(request.metadata)
        let entries = try await endpoint.repositoryIndex(tenant: tenant).filter { !request.message.ready || $0.state == "READY" }
        return ServerResponse(message: .with {
            $0.models = entries.map { entry in
                .with { $0.name = entry.name; $0.version = entry.version; $0.state = entry.state; $0.reason = entry.reason }
            }
        })
    }

    func repositoryModelLoad(request: ServerRequest<Inference_RepositoryModelLoadRequest>, context: ServerContext) async throws -> ServerResponse<Inference_RepositoryModelLoadResponse> {
        let tenant = try await services.access.tenant(request.metadata)
        try Self.refuseOverrides(request.message.parameters)
        try await endpoint.load(request.message.modelName, tenant: tenant)
        return ServerResponse(message: Inference_RepositoryModelLoadResponse())
    }

    func repositoryModelUnload(request: ServerRequest<Inference_RepositoryModelUnloadRequest>, context: ServerContext) async throws -> ServerResponse<Inference_RepositoryModelUnloadResponse> {
        let tenant = try await services.access.tenant(request.metadata)
        try await endpoint.unload(request.message.modelName, tenant: tenant)
        return ServerResponse(message: Inference_RepositoryModelUnloadResponse())
    }

    /// Triton lets a load replace the model's configuration (`config`) or files (`file:…`); here
    /// models are trained and stored by the server, so a load that asks for either is refused
    /// rather than silently loading the stored model.
    private static func refuseOverrides(_ parameters: [String: Inference_ModelRepositoryParameter]) throws {
        if let name = parameters.keys.sorted().first(where: { $0 == "config" || $0.hasPrefix("file:") }) {
            throw APIError.badRequest("load parameter '\(name.clipped())' is not supported: models here are trained by the server and loaded as stored; load without 'config' or 'file:' parameters")
        }
    }
}

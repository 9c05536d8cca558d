import GRPCCore
import HTTPTypes

/// The one place where the server's errors become gRPC statuses: an ``APIError``'s HTTP status
/// picks the code and its message goes unchanged, so a client reads the same words over gRPC as
/// over HTTP.
enum StatusMapping {
    /// The gRPC code that stands for an HTTP status of ours.
    static func code(for status: HTTPResponse.Status) -> RPCError.Code {
        switch status.code {
        case 400, 422: return .invalidArgument
        case 401: return .unauthenticated
        case 403: return .permissionDenied
        case 404: return .notFound
        // A conflict with the current state (a model being replaced, a tenant deleted meanwhile):
        // the same request may succeed once the state has changed.
        case 409: return .failedPrecondition
        // Too many rows for one request: gRPC's own transport answers a message over the size
        // limit with RESOURCE_EXHAUSTED, so both of our size limits read alike.
        case 413: return .resourceExhausted
        case 429: return .resourceExhausted
        case 503: return .unavailable
        // The disk is full: gRPC's definition of RESOURCE_EXHAUSTED names a full file system.
        case 507: return .resourceExhausted
        case 500...599: return .internalError
        default: return .invalidArgument
        }
    }

    /// An ``APIError`` as the status the client receives. `Retry-After` travels as `retry-after`
    /// metadata; the request id as `x-request-id`, for a report to the hub.
    static func rpcError(_ error: APIError, requestID: String) -> RPCError {
        var metadata = Metadata()
        metadata.addString(requestID, forKey: "x-request-id")
        if let retryAfter = error.headers[.retryAfter] { metadata.addString(retryAfter, forKey: "retry-after") }
        // An unloaded model is 409 over HTTP (a 4xx, as the protocol answers "not ready") and
        // UNAVAILABLE over gRPC, as Triton answers a model that is not ready.
        let code = error.code == "not_ready" ? .unavailable : code(for: error.status)
        return RPCError(code: code, message: error.message, metadata: metadata)
    }
}

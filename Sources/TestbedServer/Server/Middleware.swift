import HTTPTypes
import Hummingbird

/// Returns the request id that every log line of the request carries, as `x-request-id`.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.requestID] = context.id
        return response
    }
}

/// Requires `Authorization: Bearer <key>`, records the caller, and applies the per-key rate
/// limit (``AccessCheck``, which gRPC shares).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = TestbedContext
    let access: AccessCheck

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let caller = try await access.caller(authorization: request.headers[.authorization])
        context.caller = caller
        if case .tenant(let tenant, _) = caller { context.logger[metadataKey: "tenant"] = .string(tenant) }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let requestID = Self("x-request-id")!
}

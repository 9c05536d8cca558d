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

/// Requires `Authorization: Bearer <key>`, records the caller, and applies the per-key rate limit.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = TestbedContext
    let keys: KeyRing
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("this route needs an API key: send 'Authorization: Bearer <key>'")
        }
        let scheme = header.utf8.prefix(7)
        guard scheme.count == 7, zip(scheme, "bearer ".utf8).allSatisfy({ $0 | 0x20 == $1 }) else {
            throw APIError.unauthorized("the Authorization header must be 'Bearer <key>'")
        }
        var context = context
        switch keys.authenticate(String(header.utf8.dropFirst(7).drop { $0 == 0x20 })!) {
        case .failure(let error): throw error
        case .success(let caller): context.caller = caller
        }
        let bucket: String
        switch context.caller! {
        case .admin: bucket = "admin"
        case .tenant(_, let keyID): bucket = keyID
        }
        if let wait = limiter.acquire(bucket) {
            throw APIError.tooManyRequests("more than \(Int(limiter.rate)) requests per second with this key; retry after \(wait) s", retryAfter: wait)
        }
        if case .tenant(let tenant, _) = context.caller { context.logger[metadataKey: "tenant"] = .string(tenant) }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let requestID = Self("x-request-id")!
}

/// The check every keyed request passes, whichever protocol carries it: the `Authorization`
/// value read as `Bearer <key>`, the key looked up, and one token taken from the key's
/// rate-limit bucket. HTTP (``AuthMiddleware``) and gRPC (`authorization` metadata) share it,
/// so a key has the same rights, messages and one budget on both.
struct AccessCheck: Sendable {
    let keys: KeyRing
    let limiter: RateLimiter

    /// The caller that `authorization` (the header's or metadata's value, `nil` when absent)
    /// stands for; throws 401 for a missing, malformed or unknown key and 429 past the key's rate.
    func caller(authorization: String?) async throws -> Caller {
        guard let authorization else {
            throw APIError.unauthorized("this route needs an API key: send 'Authorization: Bearer <key>'")
        }
        // The scheme is case-insensitive (RFC 9110); compared byte by byte, with no lowercased copy.
        let scheme = authorization.utf8.prefix(7)
        guard scheme.count == 7, zip(scheme, "bearer ".utf8).allSatisfy({ $0 | 0x20 == $1 }) else {
            throw APIError.unauthorized("the Authorization header must be 'Bearer <key>'")
        }
        let caller: Caller
        switch await keys.authenticateLearning(String(authorization.utf8.dropFirst(7).drop { $0 == 0x20 })!) {
        case .failure(let error): throw error
        case .success(let found): caller = found
        }
        let bucket: String
        switch caller {
        case .admin: bucket = "admin"
        case .tenant(_, let keyID): bucket = keyID
        }
        if let wait = limiter.acquire(bucket) {
            throw APIError.tooManyRequests("more than \(limiter.rateDescription) requests per second with this key; retry after \(wait) s", retryAfter: wait)
        }
        return caller
    }
}

extension Caller {
    /// The answer to the admin key on a tenant's route (HTTP and gRPC alike).
    static let notATenant = APIError.forbidden("the admin key manages tenants and owns no datasets or models; use a tenant's API key")

    /// The calling tenant's id; the admin key manages tenants but owns no data (403).
    func tenant() throws -> String {
        guard case .tenant(let id, _) = self else { throw Self.notATenant }
        return id
    }
}

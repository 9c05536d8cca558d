import Foundation
import Hummingbird

/// The per-request context: Hummingbird's core storage plus who is calling.
struct TestbedContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// Set by ``AuthMiddleware``; `nil` on the health routes.
    var caller: Caller?

    init(source: Source) {
        coreContext = .init(source: source)
    }

    /// Sorted keys: the same resource always reads the same, which clients and caches like.
    var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// The calling tenant's id; the admin key manages tenants but owns no data.
    func tenant() throws -> String {
        guard case .tenant(let id, _) = caller else { throw Caller.notATenant }
        return id
    }

    func requireAdmin() throws {
        guard caller == .admin else { throw APIError.forbidden("only the admin key may do this") }
    }
}

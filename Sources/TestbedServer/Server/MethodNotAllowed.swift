import Hummingbird
import NIOConcurrencyHelpers

/// The methods each route path answers: what `Allow` lists on a 405 and on `OPTIONS`.
///
/// Filled from the router once every route is added (``TestbedApplication/makeRouter``), so that
/// a route added later is covered without anyone remembering it here.
final class RouteTable: Sendable {
    private struct Entry {
        var segments: [Substring]
        var methods: Set<String>
    }
    private let entries = NIOLockedValueBox<[Entry]>([])

    /// Records the router's routes: `(method, path)` with `{parameter}` segments.
    func record(_ routes: [(method: String, path: String)]) {
        var byPath: [String: Set<String>] = [:]
        for route in routes { byPath[route.path, default: []].insert(route.method) }
        entries.withLockedValue { entries in
            entries = byPath.map { Entry(segments: $0.key.split(separator: "/"), methods: $0.value) }
        }
    }

    /// The methods `path` answers, as `Allow` lists them: HEAD wherever GET is (the router
    /// answers it with GET's headers and no body), OPTIONS everywhere; empty when no route
    /// matches the path.
    func allowedMethods(_ path: String) -> [String] {
        let segments = path.split(separator: "/")
        var methods = Set<String>()
        for entry in entries.withLockedValue({ $0 }) where Self.matches(entry.segments, segments) {
            methods.formUnion(entry.methods)
        }
        guard !methods.isEmpty else { return [] }
        if methods.contains("GET") { methods.insert("HEAD") }
        methods.insert("OPTIONS")
        return methods.sorted()
    }

    /// As the router matches: segment by segment, a `{parameter}` matching any one segment.
    private static func matches(_ pattern: [Substring], _ segments: [Substring]) -> Bool {
        pattern.count == segments.count && zip(pattern, segments).allSatisfy { pattern, segment in
            (pattern.hasPrefix("{") && pattern.hasSuffix("}")) || pattern == segment
        }
    }
}

/// Answers a method that a path does not have with 405 and `Allow` (the same JSON error as
/// every other), and `OPTIONS` on any route path with 204 and `Allow`, without a key: `Allow`
/// tells no more than `/openapi.json` does. A path that matches no route stays a 404.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            // The router's own "no route for this method and path".
            let allowed = routes.allowedMethods(request.uri.path)
            guard !allowed.isEmpty else { throw error }
            let allow = allowed.joined(separator: ", ")
            if request.method == .options {
                return Response(status: .noContent, headers: [.allow: allow])
            }
            throw APIError(status: .methodNotAllowed, code: "method_not_allowed",
                           message: "\(request.method.rawValue.clipped(to: 20)) is not a method of \(request.uri.path.clipped(to: 200)); it answers \(allow) (/openapi.json describes them)",
                           headers: [.allow: allow])
        }
    }
}

import Foundation
import NIOHTTP1
import Testing
@testable import TestbedServer

/// Methods a path does not have: 405 with `Allow` and the usual JSON error; OPTIONS answers
/// `Allow`; HEAD answers as GET without a body. Over a real socket, on every route path the
/// router serves.
@Suite("methods a path does not have", .serialized)
struct MethodTests {
    /// One server for every case (each case only reads).
    static let server: ServerProcess = {
        do { return try ServerProcess() } catch { fatalError("the server did not start: \(error)") }
    }()

    /// Each route path with the methods the router serves it with.
    static let paths: [String: Set<String>] = {
        do {
            return try IsolationTests.routes().reduce(into: [:]) { $0[$1.path, default: []].insert($1.method) }
        } catch {
            fatalError("the router's routes could not be read: \(error)")
        }
    }()

    static let probes = ["GET", "POST", "PUT", "DELETE", "PATCH"]

    @Test(arguments: paths.keys.sorted())
    func aMethodThePathDoesNotHaveIsAnswered405WithAllow(_ route: String) async throws {
        let server = Self.server
        let methods = try #require(Self.paths[route])
        let path = try IsolationTests.concrete(route, owner: IsolationTests.nobody)
        let allow = (methods.union(methods.contains("GET") ? ["HEAD", "OPTIONS"] : ["OPTIONS"])).sorted().joined(separator: ", ")
        let missing = Self.probes.filter { !methods.contains($0) }
        #expect(!missing.isEmpty || methods.count == Self.probes.count)
        for method in missing {
            // Without a key and with the admin's: the method is refused before anything else.
            for key in [nil, server.adminKey] {
                let reply = try await server.send(HTTPMethod(rawValue: method), path, key: key)
                #expect(reply.status == 405, "\(method) \(path): \(reply.status) \(reply.text.prefix(200))")
                #expect(reply.headers.first(name: "Allow") == allow, "\(method) \(path)")
                #expect(reply.object["code"] as? String == "method_not_allowed")
                #expect(reply.error.contains(method) && reply.error.contains(allow), "\(reply.error)")
                #expect(reply.headers.first(name: "Content-Type")?.hasPrefix("application/json") == true)
            }
        }
        let options = try await server.send(.OPTIONS, path, key: nil)
        #expect(options.status == 204 && options.body.isEmpty, "OPTIONS \(path): \(options.status)")
        #expect(options.headers.first(name: "Allow") == allow)
    }

    @Test(arguments: paths.filter { $0.value.contains("GET") }.keys.sorted())
    func headAnswersAsGetWithoutABody(_ route: String) async throws {
        let server = Self.server
        let path = try IsolationTests.concrete(route, owner: IsolationTests.nobody)
        for key in [nil, server.adminKey] {
            let get = try await server.send(.GET, path, key: key)
            let head = try await server.send(.HEAD, path, key: key)
            #expect(head.status == get.status, "HEAD \(path): \(head.status), GET: \(get.status)")
            #expect(head.body.isEmpty)
            #expect(head.headers.first(name: "Content-Type") == get.headers.first(name: "Content-Type"))
        }
    }

    @Test(arguments: ["/nowhere", "/api/v1/models/a/b/c/d", "/api/v1", "/v2/models", "/ui"])
    func aPathThatMatchesNoRouteStays404(_ path: String) async throws {
        for method in ["GET", "PATCH", "OPTIONS"] {
            let reply = try await Self.server.send(HTTPMethod(rawValue: method), path, key: Self.server.adminKey)
            #expect(reply.status == 404, "\(method) \(path): \(reply.status)")
            #expect(reply.headers.first(name: "Allow") == nil)
            #expect(reply.object["code"] as? String == "not_found")
        }
    }
}

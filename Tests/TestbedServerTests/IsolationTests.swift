import Foundation
import Logging
import NIOHTTP1
import Prometheus
import Testing
@testable import TestbedServer

/// Every route the router serves, called with another tenant's key on the first tenant's
/// resources. The list comes from the router itself, so a route added later is covered without
/// anyone remembering to add it here.
@Suite("isolation between tenants, on every route", .serialized)
struct IsolationTests {
    /// The owner's resources, and the values that must never appear in another tenant's answers.
    struct Owner {
        var tenant: String
        var key: String
        var keyID: String
        var dataset: String
        var job: String
        var model: String
    }

    /// Resources that exist nowhere.
    static let nobody = Owner(tenant: "no-such-tenant", key: "", keyID: "0000", dataset: "no-such-dataset", job: "no-such-job", model: "no-such-model")

    /// The routes the router serves; synchronous, so that parameterized tests can take them as arguments.
    static func routes() throws -> [(method: String, path: String)] {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<[(method: String, path: String)], any Error> = .failure(ServerFailure("not run"))
        Task {
            do { result = .success(try await servedRoutes()) } catch { result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try result.get()
    }

    private static func servedRoutes() async throws -> [(method: String, path: String)] {
        var configuration = ServerConfiguration()
        configuration.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: configuration.dataDirectory) }
        configuration.modelsDirectory = ServerProcess.repositoryRoot.appendingPathComponent("models").path
        configuration.adminKey = "admin"
        let services = try await TestbedApplication.makeServices(configuration, logger: Logger(label: "test"))
        let router = try TestbedApplication.makeRouter(services, metrics: PrometheusCollectorRegistry())
        return router.routes.map { ($0.method.rawValue, $0.path.description) }
    }

    /// A path with each parameter set to the owner's resource of that kind; a parameter this
    /// test does not know fails the test, so that a new kind of resource is thought about.
    static func concrete(_ path: String, owner: Owner) throws -> String {
        let segments = path.split(separator: "/").map(String.init)
        return try "/" + segments.enumerated().map { index, segment -> String in
            guard segment.hasPrefix("{") || segment.hasPrefix(":") else { return segment }
            let name = segment.trimmingCharacters(in: CharacterSet(charactersIn: "{}:"))
            let previous = index > 0 ? segments[index - 1] : ""
            switch (name, previous) {
            case ("id", "datasets"): return owner.dataset
            case ("id", "jobs"): return owner.job
            case ("name", _), ("model", _): return owner.model
            case ("tenant", _): return owner.tenant
            case ("key", _): return owner.keyID
            case ("version", _): return "1"
            case ("file", _): return "app.js"
            default: throw ServerFailure("route \(path): no value for its parameter '\(name)'; teach IsolationTests.concrete which resource it names")
            }
        }.joined(separator: "/")
    }

    @Test func anotherTenantsKeyReachesNothingOfTheOwnersOnAnyRoute() async throws {
        let routes = try Self.routes()
        #expect(routes.count > 30)
        let server = try ServerProcess()
        let issued = try await server.send(.POST, "/api/v1/tenants", key: server.adminKey, json: ["id": "owner-lab"]).object
        let ownerKey = try #require(issued["api_key"] as? String)
        let dataset = try await server.upload("Servo.csv", name: "servo-secret", key: ownerKey)
        let created = try await server.send(.POST, "/api/v1/jobs", key: ownerKey,
                                            json: ["dataset": dataset, "target": "Class", "algorithms": "ridge", "model_name": "owner-secret-model"])
        let job = try #require(created.object["id"] as? String, "\(created.text)")
        _ = try await server.watchJob(job, key: ownerKey) { $0["state"] as? String == "succeeded" }
        let owner = Owner(tenant: "owner-lab", key: ownerKey, keyID: try #require(issued["key_id"] as? String),
                          dataset: dataset, job: job, model: "owner-secret-model")
        let intruder = try await server.createTenant("intruder")
        let secrets = [owner.dataset, owner.job, owner.model, "servo-secret", owner.keyID]
        // One body for every POST, naming the owner's resources wherever a body can name one.
        let body: [String: Any] = [
            "dataset": owner.dataset, "target": "Class", "model_name": "taken-over", "rows": [["Motor": "E", "Pgain": 5]],
            "row": ["Motor": "E", "Pgain": 5], "feature": "Pgain", "values": [3, 4],
            "inputs": [["name": "Pgain", "shape": [1], "datatype": "FP64", "data": [5]]], "id": "intruder-2",
        ]

        var checked = 0
        for route in routes {
            let path = try Self.concrete(route.path, owner: owner)
            let method = HTTPMethod(rawValue: route.method)
            let send = { (key: String?, path: String) in
                route.method == "POST" ? try await server.send(method, path, key: key, json: body) : try await server.send(method, path, key: key)
            }
            // Exactly as if the owner's resources did not exist: the same status, and an answer
            // that names them only where the request did.
            let reply = try await send(intruder, path)
            let nowhere = try Self.concrete(route.path, owner: Self.nobody)
            let asIfAbsent = try await send(intruder, nowhere)
            #expect(reply.status == asIfAbsent.status, "\(route.method) \(route.path): \(reply.status) on the owner's resources, \(asIfAbsent.status) on none")
            let answer = (200..<300).contains(reply.status) ? reply.text : reply.text.replacingOccurrences(of: path, with: "")
                .replacingOccurrences(of: "'\(owner.model)'", with: "").replacingOccurrences(of: "'\(owner.dataset)'", with: "")
                .replacingOccurrences(of: "'\(owner.job)'", with: "")
            for secret in secrets {
                #expect(!answer.contains(secret), "\(route.method) \(route.path) showed another tenant '\(secret)': \(reply.text.prefix(300))")
            }
            let isPublic = try await send(nil, path).status != 401
            if isPublic { continue }
            if reply.status == 403 {
                // Refused to every tenant, the owner too: an admin route.
                #expect(try await send(owner.key, path).status == 403, "\(route.method) \(route.path) refused another tenant but not the owner")
                // The admin's call names resources that do not exist, so that it changes nothing.
                #expect(try await send(server.adminKey, nowhere).status != 403, "\(route.method) \(route.path) refused the admin too")
            } else if route.path.contains("{") || route.path.contains(":") {
                #expect(reply.status == 404, "\(route.method) \(route.path) answered \(reply.status) to another tenant: \(reply.text.prefix(300))")
            }
            checked += 1
        }
        #expect(checked > 25)

        // Nothing the intruder did changed the owner's resources.
        #expect(try await server.send(.GET, "/api/v1/datasets/\(owner.dataset)", key: owner.key).status == 200)
        #expect(try await server.send(.GET, "/api/v1/jobs/\(owner.job)", key: owner.key).object["state"] as? String == "succeeded")
        #expect(try await server.send(.GET, "/v2/models/\(owner.model)/ready", key: owner.key).object["ready"] as? Bool == true)
        #expect(try await server.send(.POST, "/api/v1/models/\(owner.model)/predict", key: owner.key,
                                      json: ["rows": [["Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4]]]).status == 200)
    }
}

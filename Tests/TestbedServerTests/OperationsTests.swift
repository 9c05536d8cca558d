import Foundation
import Logging
import Prometheus
import Testing
@testable import TestbedServer

/// Running the service: limits, metrics, logs, the API description, shutdown with jobs running.
@Suite("operating the server", .serialized)
struct OperationsTests {
    @Test func theOpenAPIDocumentListsExactlyTheRoutesServed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = ServerConfiguration()
        configuration.dataDirectory = directory
        configuration.modelsDirectory = ServerProcess.repositoryRoot.appendingPathComponent("models").path
        configuration.adminKey = "admin"
        let services = try await TestbedApplication.makeServices(configuration, logger: Logger(label: "test"))
        let router = try TestbedApplication.makeRouter(services, metrics: PrometheusCollectorRegistry())
        // HEAD is answered wherever GET is (the router adds it), and described once, in the document's introduction.
        let served = Set(router.routes.filter { $0.method != .head }.map { "\($0.method.rawValue) \($0.path.description)" })
        let documented = Set(OpenAPIDocument.operations.map { "\($0.method) \($0.path)" })
        #expect(served.subtracting(documented).isEmpty, "served but not documented")
        #expect(documented.subtracting(served).isEmpty, "documented but not served")
        #expect(served.count > 30)

        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIDocument.json()) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        #expect((document["paths"] as? [String: Any])?.count == Set(OpenAPIDocument.operations.map(\.path)).count)
    }

    @Test func limitsAreAnsweredWithClearErrors() async throws {
        let server = try ServerProcess(arguments: ["--max-request-bytes", "4000", "--max-rows", "5", "--max-columns", "3",
                                                   "--rate-limit", "20", "--max-jobs-per-tenant", "1"])
        let key = try await server.createTenant("limits")
        let row: [String: Any] = ["RI": 1.52, "Na": 13.6]
        let tooMany = try await server.send(.POST, "/api/v1/models/glass-type/predict", key: key, json: ["rows": Array(repeating: row, count: 6)])
        #expect(tooMany.status == 413 && tooMany.error.contains("at most 5 per request"))
        let tooBig = try await server.send(.POST, "/api/v1/models/glass-type/predict", key: key,
                                           json: ["rows": [row], "padding": String(repeating: "x", count: 5000)])
        #expect(tooBig.status == 413 && tooBig.error.contains("at most 4000 bytes"))
        let wide = try await server.send(.POST, "/api/v1/datasets?name=wide", key: key, body: Data("a,b,c,d\n1,2,3,4\n5,6,7,8\n".utf8), contentType: "text/csv")
        #expect(wide.status == 400 && wide.error.contains("at most 3"))

        let narrow = try await server.send(.POST, "/api/v1/datasets?name=narrow", key: key,
                                           body: Data((["x,y"] + (0..<40).map { "\($0),\($0 % 2 == 0 ? "a" : "b")" }).joined(separator: "\n").utf8), contentType: "text/csv")
        let dataset = try #require(narrow.object["id"] as? String, "\(narrow.text)")
        let first = try await server.send(.POST, "/api/v1/jobs", key: key, json: ["dataset": dataset, "target": "y", "algorithms": "logistic"])
        #expect(first.status == 202)
        let second = try await server.send(.POST, "/api/v1/jobs", key: key, json: ["dataset": dataset, "target": "y", "algorithms": "logistic"])
        // Either the first is still queued or running (429), or it has already finished (202).
        if second.status == 429 { #expect(second.error.contains("the limit is 1")) } else { #expect(second.status == 202) }

        // 100 requests at once: one after another, a busy test machine could answer them slower
        // than 20 a second and never reach the limit.
        let replies = try await withThrowingTaskGroup(of: ServerProcess.Reply.self) { group in
            for _ in 0..<100 { group.addTask { try await server.send(.GET, "/api/v1/models", key: key) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let refused = try #require(replies.first { $0.status == 429 }, "\(Set(replies.map(\.status)))")
        #expect(refused.error.contains("more than 20 requests per second") && Int(refused.headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
    }

    /// Found by the soak: every model ever trained stayed in `/metrics` (and in memory).
    @Test func aDeletedModelLeavesNoMetricSeries() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("churning")
        let dataset = try await server.upload("Servo.csv", name: "servo", key: key)
        let job = try await server.send(.POST, "/api/v1/jobs", key: key, json: ["dataset": dataset, "target": "Class", "algorithms": "ridge", "model_name": "short-lived"])
        let id = try #require(job.object["id"] as? String, "\(job.text)")
        _ = try await server.watchJob(id, key: key) { $0["state"] as? String == "succeeded" }
        let row: [String: Any] = ["Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4]
        #expect(try await server.send(.POST, "/api/v1/models/short-lived/predict", key: key, json: ["rows": [row, row]]).status == 200)
        let series = #"testbed_rows_scored_total{model="short-lived",tenant="churning"} 2"#
        #expect(try await server.send(.GET, "/metrics", key: server.adminKey).text.contains(series))
        #expect(try await server.send(.DELETE, "/api/v1/models/short-lived", key: key).status == 204)
        #expect(!(try await server.send(.GET, "/metrics", key: server.adminKey).text.contains("short-lived")))
    }

    @Test func metricsLogsAndRequestIDs() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("observed")
        let predicted = try await server.send(.POST, "/api/v1/models/oil-type/predict", key: key,
                                              json: ["rows": [["palmitic": 9.7, "stearic": 5.2, "oleic": 31, "linoleic": 52.7]]])
        #expect(predicted.status == 200)
        let refused = try await server.send(.POST, "/api/v1/models/oil-type/predict", key: key, body: Data("{".utf8))
        let id = try #require(refused.headers.first(name: "x-request-id"))
        try await Task.sleep(for: .milliseconds(200))
        let line = try #require(server.logText.split(separator: "\n").first { $0.contains(id) }, "no log line with the request id")
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(fields["hb.request.id"] == id && fields["level"] == "info" && fields["message"] == "request refused")

        #expect(try await server.send(.GET, "/metrics", key: key).status == 403)
        let metrics = try await server.send(.GET, "/metrics", key: server.adminKey).text
        #expect(metrics.contains(#"testbed_predictions_total{model="oil-type"} 1"#))
        #expect(metrics.contains(#"testbed_rows_scored_total{model="oil-type"} 1"#))
        #expect(metrics.contains(#"http_route="/api/v1/models/{name}/predict""#) && metrics.contains(#"http_response_status_code="400""#))
        #expect(metrics.contains("testbed_job_queue_length 0"))
    }

    @Test func theRepositoryExtensionUnloadsAndLoadsAModelInATenantsView() async throws {
        let server = try ServerProcess()
        let (key, other) = (try await server.createTenant("unloader"), try await server.createTenant("bystander"))
        let metadata = try await server.send(.GET, "/v2", key: key).object
        #expect(metadata["name"] as? String == "applied-ai-testbed" && metadata["extensions"] as? [String] == ["model_repository", "binary_tensor_data"])
        #expect(try await server.send(.GET, "/v2/health/ready", key: nil).object["ready"] as? Bool == true)
        let infer: [String: Any] = ["inputs": [["name": "x", "shape": [1, 9], "datatype": "FP64", "data": [1.52, 13.6, 4.5, 1.1, 71.8, 0.06, 8.75, 0, 0]]]]

        #expect(try await server.send(.POST, "/v2/repository/models/glass-type/unload", key: key).status == 200)
        let notReady = try await server.send(.GET, "/v2/models/glass-type/ready", key: key)
        #expect(notReady.status == 409 && notReady.error.contains("is not ready: it was unloaded") && notReady.object["code"] as? String == "not_ready")
        #expect(try await server.send(.POST, "/v2/models/glass-type/infer", key: key, json: infer).status == 409)
        let index = try await server.send(.POST, "/v2/repository/index", key: key).array
        #expect(index.first { $0["name"] as? String == "glass-type" }?["state"] as? String == "UNAVAILABLE")
        #expect(try await server.send(.GET, "/v2/models/glass-type/ready", key: other).status == 200)
        #expect(try await server.send(.POST, "/v2/repository/models/turbine/load", key: key).status == 404)

        #expect(try await server.send(.POST, "/v2/repository/models/glass-type/load", key: key).status == 200)
        #expect(try await server.send(.GET, "/v2/models/glass-type/versions/1/ready", key: key).object["ready"] as? Bool == true)
        #expect(try await server.send(.POST, "/v2/models/glass-type/infer", key: key, json: infer).status == 200)
    }

    @Test func anAdminKeyIsCreatedReadableOnlyByItsOwner() async throws {
        let server = try ServerProcess(adminKey: nil)
        let path = server.dataDirectory + "/admin.key"
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let key = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await server.send(.GET, "/api/v1/tenants", key: key).status == 200)
        #expect(try await server.send(.GET, "/v2/health/live", key: nil).status == 200)
        #expect(try await server.send(.GET, "/openapi.json", key: nil).object["openapi"] as? String == "3.1.0")
    }

    @Test func jobsCanBeCancelledAndAShutdownInterruptsThemWithoutLosingTheQueue() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("mine")
        let dataset = try await server.upload("Satellite.csv", name: "satellite", key: key)
        let job = { () async throws -> String in
            let reply = try await server.send(.POST, "/api/v1/jobs", key: key, json: ["dataset": dataset, "target": "classes"])
            return try #require(reply.object["id"] as? String, "\(reply.text)")
        }
        let cancelled = try await job()
        _ = try await server.watchJob(cancelled, key: key) { $0.number("progress") ?? 0 > 0 }
        #expect(try await server.send(.POST, "/api/v1/jobs/\(cancelled)/cancel", key: key).status == 202)
        let stopped = try await server.watchJob(cancelled, key: key) { $0["state"] as? String != "running" }.last!
        #expect(stopped["state"] as? String == "cancelled" && stopped["finished_at"] is String)

        let running = try await job(), waiting = try await job()
        _ = try await server.watchJob(running, key: key) { $0.number("progress") ?? 0 > 0 }
        #expect(try await server.send(.GET, "/api/v1/jobs/\(waiting)", key: key).object["state"] as? String == "queued")
        let began = Date()
        #expect(server.stop() == 0)
        #expect(Date().timeIntervalSince(began) < 30)
        try server.start()
        let interrupted = try await server.send(.GET, "/api/v1/jobs/\(running)", key: key).object
        #expect(interrupted["state"] as? String == "interrupted", "\(interrupted)")
        // The queued job survived the restart and now runs.
        _ = try await server.watchJob(waiting, key: key) { $0["state"] as? String == "running" }
        #expect(try await server.send(.POST, "/api/v1/jobs/\(waiting)/cancel", key: key).status == 202)
        _ = try await server.watchJob(waiting, key: key) { $0["state"] as? String == "cancelled" }
    }
}

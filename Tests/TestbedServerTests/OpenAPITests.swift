import Foundation
import NIOHTTP1
import Testing
@testable import TestbedServer

/// `/openapi.json` against what the server does: the schemas read off the types, the request
/// bodies against the types that decode them, and every route's real answers against the
/// document, statuses and media types included.
@Suite("the OpenAPI document", .serialized)
struct OpenAPITests {
    static func document() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: OpenAPIDocument.json()) as? [String: Any])
    }

    /// Text of a schema with sorted keys, to compare two schemas.
    static func text(_ schema: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: schema, options: [.sortedKeys]), as: UTF8.self)
    }

    struct Sample: Decodable {
        enum Kind: String, Codable, CaseIterable { case small, large }
        struct Inner: Decodable { var value: Double }
        var name: String
        var count: Int
        var note: String?
        var tags: [String]
        var scores: [String: Double]
        var kind: Kind
        var at: Date
        var grid: [[Double]]
        var inner: Inner?
        var cells: [JSONCell]
        enum CodingKeys: String, CodingKey { case name, count, note, tags, scores, kind, grid, inner, cells; case at = "created_at" }
    }

    @Test func reflectionReadsKeysOptionalsArraysMapsEnumsAndDates() throws {
        let schema = SchemaReflection.schema(of: Sample.self)
        let expected: JSONSchema = Schema.object([
            "name": Schema.string, "count": Schema.integer, "note": Schema.string, "tags": Schema.array(Schema.string),
            "scores": Schema.map(Schema.number), "kind": ["type": "string", "enum": ["small", "large"]],
            "created_at": ["type": "string", "format": "date-time"], "grid": Schema.array(Schema.array(Schema.number)),
            "inner": Schema.object(["value": Schema.number], required: ["value"]), "cells": Schema.array(Schema.cell),
        ], required: ["cells", "count", "created_at", "grid", "kind", "name", "scores", "tags"])
        #expect(try Self.text(schema) == Self.text(expected))
    }

    /// Request bodies are described by hand (their limits are no type's), so each is checked
    /// against the type that decodes it: the same keys, the same required ones.
    static let requestBodies = ["createTenant", "createJob", "retrain", "feedback", "settingsChange", "whatIf"]

    @Test(arguments: requestBodies)
    func aRequestBodyNamesTheKeysItsTypeReads(_ body: String) throws {
        let (documented, decoded): (JSONSchema, JSONSchema) = switch body {
        case "createTenant": (Schema.createTenant, Schema.of(TenantRoutes.CreateTenant.self))
        case "createJob": (Schema.createJob, Schema.of(JobRoutes.CreateJob.self))
        case "retrain": (Schema.retrain, Schema.of(JobRoutes.Retrain.self))
        case "feedback": (Schema.feedback, Schema.of(MonitoringRoutes.FeedbackBody.self))
        case "settingsChange": (Schema.settingsChange, Schema.of(MonitoringRoutes.RetentionChange.self))
        case "whatIf": (Schema.whatIf, Schema.of(ModelRoutes.WhatIfRequest.self))
        default: throw ServerFailure("no request body '\(body)'")
        }
        let keys = { (schema: JSONSchema) in Set((schema["properties"] as? [String: Any] ?? [:]).keys) }
        #expect(keys(documented) == keys(decoded))
        #expect(Set(documented["required"] as? [String] ?? []) == Set(decoded["required"] as? [String] ?? []))
    }

    /// The validator finds what is wrong: without this, a validator that accepted everything
    /// would let every check below pass.
    @Test func theValidatorFindsAMissingKeyAnExtraKeyAndAWrongType() throws {
        let validator = SchemaValidator(document: try Self.document())
        let identity = Schema.ref("Identity")
        let encoded = try JSONEncoder().encode(TenantRoutes.Identity(role: "tenant", tenant: "t", displayName: "T", keyID: "k"))
        let good = try #require(try JSONSerialization.jsonObject(with: encoded) as? [String: Any])
        #expect(validator.problems(good, identity).isEmpty)
        #expect(validator.problems(good.filter { $0.key != "role" }, identity) == ["$: lacks 'role'"])
        #expect(validator.problems(good.merging(["colour": "red"]) { a, _ in a }, identity) == ["$: 'colour' is not in the schema"])
        #expect(validator.problems(good.merging(["tenant": 7]) { _, b in b }, identity).first?.hasPrefix("$.tenant: expected string") == true)
        #expect(validator.problems(["version": 0], ["type": "object", "properties": ["version": Schema.version]]).count == 1)
        #expect(validator.problems(true, Schema.number).count == 1 && validator.problems(1, Schema.boolean).count == 1)
    }

    /// The Open Inference Protocol's answers are described by hand (their types are in KServe/
    /// and encode by hand): each is checked against a value encoded as the server encodes it.
    @Test func theInferenceProtocolsSchemasFitEncodedAnswers() throws {
        typealias P = InferenceProtocol
        let validator = SchemaValidator(document: try Self.document())
        let encoder = JSONEncoder()
        let samples: [(Encodable, JSONSchema)] = [
            (P.ServerMetadata(name: "s", version: "1", extensions: ["model_repository"]), Schema.serverMetadata),
            (P.ModelMetadata(name: "m", versions: ["2", "1"], platform: "p", inputs: [.init(name: "x", datatype: "FP64", shape: [-1, 1])],
                             outputs: [.init(name: "predict", datatype: "FP64", shape: [-1])], parameters: ["task": "regression"]), Schema.modelMetadata),
            (P.ReadyState(name: nil, ready: true), Schema.readyState),
            (P.ReadyState(name: "m", ready: true), Schema.readyState),
            (P.LiveState(live: true), Schema.liveState),
            (P.RepositoryEntry(name: "m", version: "1", state: "READY", reason: ""), Schema.repositoryEntry),
            (P.Empty(), Schema.empty),
        ]
        for (value, schema) in samples {
            let json = try JSONSerialization.jsonObject(with: encoder.encode(value))
            #expect(validator.problems(json, schema).isEmpty, "\(type(of: value)): \(validator.problems(json, schema))")
        }
    }

    @Test func everyOperationDescribesItsPathParametersAndAnswers() throws {
        let paths = try #require(try Self.document()["paths"] as? [String: [String: [String: Any]]])
        for (path, operations) in paths {
            let names = path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            for (method, operation) in operations {
                let parameters = (operation["parameters"] as? [[String: Any]] ?? []).filter { $0["in"] as? String == "path" }
                #expect(parameters.compactMap { $0["name"] as? String } == names, "\(method) \(path)")
                let responses = try #require(operation["responses"] as? [String: [String: Any]], "\(method) \(path)")
                #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(method) \(path) has no success answer")
                #expect(responses["default"] == nil, "\(method) \(path): every status is listed, none by default")
                for (status, response) in responses where !status.hasPrefix("2") {
                    let schema = ((response["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
                    #expect(schema?["$ref"] as? String == "#/components/schemas/Error", "\(method) \(path) \(status)")
                }
                if parameters.contains(where: { $0["name"] as? String == "version" }) {
                    let schema = parameters.first { $0["name"] as? String == "version" }?["schema"] as? [String: Any]
                    #expect(schema?["type"] as? String == "integer" && schema?["minimum"] as? Int == 1)
                }
            }
        }
    }

    /// Every route called on a real server, its success answers and a sample of its errors each
    /// checked against the document: the status listed, the media type listed, the body fitting
    /// the schema with no key the schema does not name. At the end, every operation must have
    /// had a success answer checked.
    @Test func everyAnswerOfARealServerFitsTheDocument() async throws {
        let document = try Self.document()
        let checker = AnswerChecker(document: document)
        let server = try ServerProcess()
        let admin = server.adminKey
        func call(_ method: HTTPMethod, _ template: String, _ path: String? = nil, key: String?, json: Any? = nil, csv: String? = nil,
                  binary: (header: String, data: [UInt8])? = nil, accept: String? = nil, headers: [(String, String)] = [],
                  sourceLocation: SourceLocation = #_sourceLocation) async throws -> ServerProcess.Reply {
            var headers = headers + (accept.map { [("Accept", $0)] } ?? [])
            if let binary { headers.append(("Inference-Header-Content-Length", String(binary.header.utf8.count))) }
            let body = try json.map { try JSONSerialization.data(withJSONObject: $0) } ?? csv.map { Data($0.utf8) }
                ?? binary.map { Data($0.header.utf8) + Data($0.data) }
            let contentType = csv != nil ? "text/csv" : binary != nil ? "application/octet-stream" : "application/json"
            let reply = try await server.send(method, path ?? template, key: key, body: body, contentType: contentType, headers: headers)
            checker.check(reply, method.rawValue, template, sourceLocation: sourceLocation)
            return reply
        }

        // Open routes.
        _ = try await call(.GET, "/v2/health/live", key: nil)
        _ = try await call(.GET, "/v2/health/ready", key: nil)
        _ = try await call(.GET, "/openapi.json", key: nil)
        _ = try await call(.GET, "/", key: nil)
        _ = try await call(.GET, "/ui/{file}", "/ui/app.js", key: nil)
        _ = try await call(.GET, "/ui/{file}", "/ui/app.css", key: nil)
        _ = try await call(.GET, "/ui/{file}", "/ui/nothing.js", key: nil)

        // The admin's routes.
        let issued = try await call(.POST, "/api/v1/tenants", key: admin, json: ["id": "documented", "display_name": "Documented Ltd"]).object
        let key = try #require(issued["api_key"] as? String)
        _ = try await call(.POST, "/api/v1/tenants", key: admin, json: ["id": "documented"])
        _ = try await call(.POST, "/api/v1/tenants", key: admin, json: ["id": "no/slash"])
        _ = try await call(.GET, "/api/v1/me", key: admin)
        _ = try await call(.GET, "/api/v1/me", key: key)
        _ = try await call(.GET, "/api/v1/me", key: "nonsense")
        _ = try await call(.GET, "/api/v1/me", key: nil)
        let second = try await call(.POST, "/api/v1/tenants/{tenant}/keys", "/api/v1/tenants/documented/keys", key: admin).object
        _ = try await call(.POST, "/api/v1/tenants/{tenant}/keys", "/api/v1/tenants/nobody/keys", key: admin)
        _ = try await call(.GET, "/api/v1/tenants", key: admin)
        _ = try await call(.GET, "/api/v1/tenants", key: key)
        _ = try await call(.DELETE, "/api/v1/tenants/{tenant}/keys/{key}", "/api/v1/tenants/documented/keys/\(try #require(second["key_id"] as? String))", key: admin)
        _ = try await call(.GET, "/api/v1/audit", "/api/v1/audit?limit=5", key: admin)
        _ = try await call(.GET, "/api/v1/audit", "/api/v1/audit?limit=many", key: admin)
        _ = try await call(.GET, "/metrics", key: admin)

        // Datasets, jobs, the catalog.
        let servo = try Data(contentsOf: ServerProcess.dataset("Servo.csv"))
        let uploaded = try await call(.POST, "/api/v1/datasets", "/api/v1/datasets?name=servo", key: key, csv: String(decoding: servo, as: UTF8.self)).object
        let dataset = try #require(uploaded["id"] as? String)
        _ = try await call(.POST, "/api/v1/datasets", "/api/v1/datasets?name=empty", key: key, csv: "")
        _ = try await call(.GET, "/api/v1/datasets", key: key)
        _ = try await call(.GET, "/api/v1/datasets/{id}", "/api/v1/datasets/\(dataset)", key: key)
        _ = try await call(.GET, "/api/v1/algorithms", key: key)
        _ = try await call(.GET, "/api/v1/metrics", key: key)
        let job = { (body: [String: Any]) async throws -> String in
            let reply = try await call(.POST, "/api/v1/jobs", key: key, json: body)
            let id = try #require(reply.object["id"] as? String, "\(reply.text)")
            _ = try await server.watchJob(id, key: key) { $0["state"] as? String == "succeeded" }
            return id
        }
        let servoJob = try await job(["dataset": dataset, "target": "Class", "algorithms": "ridge", "model_name": "servo"])
        _ = try await call(.POST, "/api/v1/jobs", key: key, json: ["dataset": dataset, "target": "Nothing"])
        _ = try await call(.POST, "/api/v1/jobs", key: key, json: ["dataset": "no-such-dataset", "target": "Class"])
        _ = try await call(.GET, "/api/v1/jobs", key: key)
        _ = try await call(.GET, "/api/v1/jobs/{id}", "/api/v1/jobs/\(servoJob)", key: key)
        _ = try await call(.POST, "/api/v1/jobs/{id}/cancel", "/api/v1/jobs/\(servoJob)/cancel", key: key)
        let running = try await call(.POST, "/api/v1/jobs", key: key, json: ["dataset": dataset, "target": "Class", "model_name": "cancelled"]).object
        _ = try await call(.POST, "/api/v1/jobs/{id}/cancel", "/api/v1/jobs/\(try #require(running["id"] as? String))/cancel", key: key)

        // A two-class model, and one trained in time order (its card compares random folds).
        let ionosphere = try await server.upload("Ionosphere.csv", name: "ionosphere", key: key)
        _ = try await job(["dataset": ionosphere, "target": "Class", "algorithms": ["logistic"], "model_name": "radar"])
        let days = (0..<80).map { day in "2026-01-\(String(format: "%02d", day % 28 + 1)) 0\(day / 28):00:00,\(day % 7),\(Double(day) * 1.5 + Double(day % 7))" }
        let timed = try await server.uploadCSV((["day,weekday,load"] + days.sorted()).joined(separator: "\n"), name: "timed", key: key)
        _ = try await job(["dataset": timed, "target": "load", "algorithms": "ridge", "split": "time", "model_name": "timed"])

        // Models.
        _ = try await call(.GET, "/api/v1/models", key: key)
        for name in ["servo", "radar", "timed", "glass-type", "servo-rise-time"] {
            _ = try await call(.GET, "/api/v1/models/{name}", "/api/v1/models/\(name)", key: key)
        }
        _ = try await call(.GET, "/api/v1/models/{name}", "/api/v1/models/nothing", key: key)
        _ = try await call(.GET, "/api/v1/models/{name}", "/api/v1/models/servo", key: admin)
        let servoRow: [String: Any] = ["Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4, "Extra": 1]
        let predicted = try await call(.POST, "/api/v1/models/{name}/predict", "/api/v1/models/servo/predict", key: key,
                                       json: ["rows": [servoRow, servoRow], "explain": true, "top": 2]).object
        let ids = (predicted["predictions"] as? [[String: Any]] ?? []).compactMap { $0["prediction_id"] as? String }
        #expect(ids.count == 2)
        let radarRow = Dictionary(uniqueKeysWithValues: (1...34).map { ("V\($0)", $0 == 2 ? 0.0 : 0.5) })
        _ = try await call(.POST, "/api/v1/models/{name}/predict", "/api/v1/models/radar/predict", key: key, json: ["rows": [radarRow], "threshold": 0.3])
        _ = try await call(.POST, "/api/v1/models/{name}/predict", "/api/v1/models/radar/predict?explain=true", key: key,
                           json: ["rows": [radarRow], "costs": [[0, 1], [5, 0]]])
        _ = try await call(.POST, "/api/v1/models/{name}/predict", "/api/v1/models/glass-type/predict?explain=true&top=3", key: key,
                           csv: "RI,Na,Mg\n1.52,13.6,4.5\n", accept: "text/csv")
        _ = try await call(.POST, "/api/v1/models/{name}/predict", "/api/v1/models/glass-type/predict?top=3", key: key, csv: "RI,Na,Mg\n1.52,13.6,4.5\n")
        _ = try await call(.POST, "/api/v1/models/{name}/predict", "/api/v1/models/glass-type/predict?top=none", key: key, json: ["rows": [["RI": 1.5]]])
        _ = try await call(.POST, "/api/v1/models/{name}/predict", "/api/v1/models/servo/predict", key: key, json: ["rows": [] as [Any]])
        _ = try await call(.POST, "/api/v1/models/{name}/predict", "/api/v1/models/servo/predict", key: key, json: ["rows": [["Pgain": 1e308, "Vgain": 1e308]]])
        _ = try await call(.POST, "/api/v1/models/{name}/versions/{version}/predict", "/api/v1/models/servo/versions/1/predict", key: key, json: ["rows": [servoRow]])
        _ = try await call(.POST, "/api/v1/models/{name}/versions/{version}/predict", "/api/v1/models/servo/versions/x/predict", key: key, json: ["rows": [servoRow]])
        _ = try await call(.POST, "/api/v1/models/{name}/whatif", "/api/v1/models/servo/whatif", key: key, json: ["row": servoRow, "feature": "Pgain"])
        _ = try await call(.POST, "/api/v1/models/{name}/whatif", "/api/v1/models/glass-type/whatif", key: key,
                           json: ["row": ["RI": 1.52], "feature": "Mg", "range": ["from": 0, "to": 4, "step": 1]])
        _ = try await call(.POST, "/api/v1/models/{name}/whatif", "/api/v1/models/servo/whatif", key: key, json: ["row": servoRow, "feature": "Nothing"])
        _ = try await call(.POST, "/api/v1/models/{name}/versions/{version}/whatif", "/api/v1/models/servo/versions/1/whatif", key: key,
                           json: ["row": servoRow, "feature": "Motor", "values": ["A", "E"]])

        // Versions: retrain, compare, promote, delete.
        let again = try await server.upload("Servo.csv", name: "servo-again", key: key)
        let retrained = try await call(.POST, "/api/v1/models/{name}/retrain", "/api/v1/models/servo/retrain", key: key, json: ["dataset": again]).object
        _ = try await server.watchJob(try #require(retrained["id"] as? String), key: key) { $0["state"] as? String == "succeeded" }
        _ = try await call(.POST, "/api/v1/models/{name}/retrain", "/api/v1/models/glass-type/retrain", key: key, json: ["dataset": again])
        _ = try await call(.GET, "/api/v1/models/{name}/versions", "/api/v1/models/servo/versions", key: key)
        _ = try await call(.GET, "/api/v1/models/{name}/versions", "/api/v1/models/glass-type/versions", key: key)
        _ = try await call(.GET, "/api/v1/models/{name}/versions/{version}", "/api/v1/models/servo/versions/2", key: key)
        _ = try await call(.GET, "/api/v1/models/{name}/versions/{version}", "/api/v1/models/servo/versions/0", key: key)
        _ = try await call(.POST, "/api/v1/models/{name}/versions/{version}/promote", "/api/v1/models/servo/versions/2/promote", key: key)
        _ = try await call(.DELETE, "/api/v1/models/{name}/versions/{version}", "/api/v1/models/servo/versions/2", key: key)
        _ = try await call(.DELETE, "/api/v1/models/{name}/versions/{version}", "/api/v1/models/servo/versions/1", key: key)

        // Monitoring and settings.
        _ = try await call(.GET, "/api/v1/settings", key: key)
        _ = try await call(.PUT, "/api/v1/settings", key: key, json: ["log_inputs": true, "prediction_retention_days": 7])
        _ = try await call(.PUT, "/api/v1/settings", key: key, json: ["prediction_retention_days": 0])
        _ = try await call(.POST, "/api/v1/models/{name}/feedback", "/api/v1/models/servo/feedback", key: key,
                           json: ["outcomes": ids.map { ["prediction_id": $0, "actual": 0.7] }])
        _ = try await call(.POST, "/api/v1/models/{name}/feedback", "/api/v1/models/servo/feedback", key: key,
                           json: ["rows": [servoRow.merging(["Class": 1.2]) { a, _ in a }]])
        _ = try await call(.POST, "/api/v1/models/{name}/feedback", "/api/v1/models/servo/feedback", key: key, json: ["rows": [] as [Any]])
        _ = try await call(.GET, "/api/v1/models/{name}/monitoring", "/api/v1/models/servo/monitoring", key: key)
        _ = try await call(.GET, "/api/v1/models/{name}/monitoring", "/api/v1/models/servo/monitoring?version=2", key: key)
        _ = try await call(.GET, "/api/v1/models/{name}/monitoring", "/api/v1/models/servo/monitoring?version=two", key: key)

        // The Open Inference Protocol.
        let infer: [String: Any] = ["id": "r1", "inputs": [["name": "x", "shape": [1, 9], "datatype": "FP64", "data": [1.52, 13.6, 4.5, 1.1, 71.8, 0.06, 8.75, 0, 0]]]]
        _ = try await call(.GET, "/v2", key: key)
        _ = try await call(.GET, "/v2/models/{model}", "/v2/models/glass-type", key: key)
        _ = try await call(.GET, "/v2/models/{model}", "/v2/models/servo", key: key)
        _ = try await call(.GET, "/v2/models/{model}/versions/{version}", "/v2/models/glass-type/versions/1", key: key)
        _ = try await call(.GET, "/v2/models/{model}/versions/{version}", "/v2/models/glass-type/versions/x", key: key)
        _ = try await call(.GET, "/v2/models/{model}/ready", "/v2/models/glass-type/ready", key: key)
        _ = try await call(.GET, "/v2/models/{model}/versions/{version}/ready", "/v2/models/glass-type/versions/1/ready", key: key)
        _ = try await call(.POST, "/v2/models/{model}/infer", "/v2/models/glass-type/infer", key: key, json: infer)
        _ = try await call(.POST, "/v2/models/{model}/infer", "/v2/models/servo/infer", key: key,
                           json: ["inputs": [["name": "Motor", "shape": [1], "datatype": "BYTES", "data": ["E"]], ["name": "Pgain", "shape": [1], "datatype": "FP64", "data": [5]]]])
        _ = try await call(.POST, "/v2/models/{model}/versions/{version}/infer", "/v2/models/glass-type/versions/1/infer", key: key, json: infer)
        _ = try await call(.POST, "/v2/models/{model}/infer", "/v2/models/glass-type/infer", key: key, json: ["inputs": "none"])
        // The binary tensor data extension: raw inputs, and the answer in the same framing.
        let glassBytes = [1.52, 13.6, 4.5, 1.1, 71.8, 0.06, 8.75, 0, 0].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        let binaryHeader = #"{"inputs":[{"name":"x","shape":[1,9],"datatype":"FP64","parameters":{"binary_data_size":72}}],"parameters":{"binary_data_output":true}}"#
        _ = try await call(.POST, "/v2/models/{model}/infer", "/v2/models/glass-type/infer", key: key, binary: (binaryHeader, glassBytes))
        _ = try await call(.POST, "/v2/models/{model}/versions/{version}/infer", "/v2/models/glass-type/versions/1/infer", key: key,
                           binary: (binaryHeader, Array(glassBytes.prefix(9))))

        // Exports for other runtimes.
        _ = try await call(.GET, "/api/v1/models/{name}/export", "/api/v1/models/glass-type/export?format=onnx", key: key)
        _ = try await call(.GET, "/api/v1/models/{name}/export", "/api/v1/models/glass-type/export?format=pmml", key: key)
        _ = try await call(.GET, "/api/v1/models/{name}/versions/{version}/export", "/api/v1/models/servo/versions/2/export", key: key)

        // MLflow's scoring protocol.
        let split: [String: Any] = ["dataframe_split": ["columns": ["Motor", "Screw", "Pgain", "Vgain"], "data": [["E", "E", 5, 4], ["B", "D", 6, 5]]]]
        _ = try await call(.POST, "/invocations", key: key, json: split, headers: [("X-Model-Name", "servo")])
        _ = try await call(.POST, "/invocations", key: key, csv: "Motor,Screw,Pgain,Vgain\nE,E,5,4\n", headers: [("X-Model-Name", "servo"), ("X-Model-Version", "2")])
        _ = try await call(.POST, "/invocations", key: key, json: split)
        _ = try await call(.POST, "/invocations", key: key, json: split, headers: [("X-Model-Name", "nothing")])
        _ = try await call(.POST, "/api/v1/models/{name}/invocations", "/api/v1/models/glass-type/invocations", key: key,
                           json: ["instances": [[1.52, 13.6, 4.5, 1.1, 71.8, 0.06, 8.75, 0, 0]]])
        _ = try await call(.POST, "/api/v1/models/{name}/invocations", "/api/v1/models/servo/invocations", key: key, json: ["dataframe_records": [["Motor": "E"]]])
        _ = try await call(.POST, "/api/v1/models/{name}/versions/{version}/invocations", "/api/v1/models/servo/versions/2/invocations", key: key,
                           json: ["inputs": ["Motor": ["E"], "Screw": ["E"], "Pgain": [5], "Vgain": [4]]])
        _ = try await call(.POST, "/api/v1/models/{name}/versions/{version}/invocations", "/api/v1/models/servo/versions/2/invocations", key: key,
                           json: ["columns": ["Motor"]])
        _ = try await call(.POST, "/v2/repository/index", key: key)
        _ = try await call(.POST, "/v2/repository/models/{model}/unload", "/v2/repository/models/glass-type/unload", key: key)
        _ = try await call(.GET, "/v2/models/{model}/ready", "/v2/models/glass-type/ready", key: key)
        _ = try await call(.POST, "/v2/repository/models/{model}/load", "/v2/repository/models/glass-type/load", key: key)

        // Deleting.
        _ = try await call(.DELETE, "/api/v1/models/{name}", "/api/v1/models/glass-type", key: key)
        _ = try await call(.DELETE, "/api/v1/models/{name}", "/api/v1/models/servo", key: key)
        _ = try await call(.DELETE, "/api/v1/datasets/{id}", "/api/v1/datasets/\(again)", key: key)
        _ = try await call(.DELETE, "/api/v1/tenants/{tenant}", "/api/v1/tenants/documented", key: admin)

        let documented = Set(OpenAPIDocument.operations.map { "\($0.method) \($0.path)" })
        #expect(documented.subtracting(checker.succeeded).sorted() == [], "operations whose success answer no call checked")
        #expect(checker.checked > 90)
    }
}

/// Checks answers against the document and counts what it checked.
final class AnswerChecker: @unchecked Sendable {
    let paths: [String: [String: [String: Any]]]
    let validator: SchemaValidator
    private(set) var succeeded = Set<String>()
    private(set) var checked = 0

    init(document: [String: Any]) {
        paths = document["paths"] as? [String: [String: [String: Any]]] ?? [:]
        validator = SchemaValidator(document: document)
    }

    func check(_ reply: ServerProcess.Reply, _ method: String, _ template: String, sourceLocation: SourceLocation) {
        checked += 1
        let label = "\(method) \(template) → \(reply.status)"
        guard let operation = paths[template]?[method.lowercased()] else {
            Issue.record("\(method) \(template) is not in the document", sourceLocation: sourceLocation)
            return
        }
        guard let response = (operation["responses"] as? [String: Any])?[String(reply.status)] as? [String: Any] else {
            Issue.record("\(label): the document does not list this status: \(reply.text.prefix(300))", sourceLocation: sourceLocation)
            return
        }
        guard let content = response["content"] as? [String: Any] else {
            #expect(reply.body.isEmpty, "\(label): a body where the document says none", sourceLocation: sourceLocation)
            if (200..<300).contains(reply.status) { succeeded.insert("\(method) \(template)") }
            return
        }
        let type = (reply.headers.first(name: "Content-Type") ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard let media = content[type] as? [String: Any] else {
            Issue.record("\(label): the content type '\(type)' is not among \(content.keys.sorted())", sourceLocation: sourceLocation)
            return
        }
        if type == "application/json" {
            guard let json = reply.json, let schema = media["schema"] as? [String: Any] else {
                Issue.record("\(label): not JSON: \(reply.text.prefix(200))", sourceLocation: sourceLocation)
                return
            }
            let problems = validator.problems(json, schema)
            #expect(problems.isEmpty, "\(label): \(problems.prefix(10).joined(separator: "; "))", sourceLocation: sourceLocation)
            if !problems.isEmpty { return }
        }
        if (200..<300).contains(reply.status) { succeeded.insert("\(method) \(template)") }
    }
}

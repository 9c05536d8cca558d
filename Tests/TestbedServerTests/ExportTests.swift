import Foundation
import Testing

/// `GET …/export?format=onnx` over real HTTP: the file as an attachment, the tenant's own models
/// only, and clear refusals.
@Suite("model export over HTTP", .serialized)
struct ExportTests {
    @Test func ownModelsExportAsAttachmentsAndOthersAreNotFound() async throws {
        let server = try ServerProcess()
        let owner = try await server.createTenant("export-owner")
        let stranger = try await server.createTenant("export-stranger")
        let dataset = try await server.upload("Servo.csv", name: "servo", key: owner)
        let created = try await server.send(.POST, "/api/v1/jobs", key: owner,
                                            json: ["dataset": dataset, "target": "Class", "algorithms": "gbdt", "model_name": "servo-rise", "folds": 3])
        let job = try #require(created.object["id"] as? String)
        let states = try await server.watchJob(job, key: owner) { ["succeeded", "failed"].contains($0["state"] as? String) }
        #expect(states.last?["state"] as? String == "succeeded", "\(states.last ?? [:])")

        for path in ["/api/v1/models/servo-rise/export?format=onnx", "/api/v1/models/servo-rise/versions/1/export?format=onnx"] {
            let reply = try await server.send(.GET, path, key: owner)
            #expect(reply.status == 200, "\(path): \(reply.text.prefix(300))")
            #expect(reply.headers["Content-Type"].first == "application/octet-stream")
            #expect(reply.headers["Content-Disposition"].first == #"attachment; filename="servo-rise-v1.onnx""#)
            // An ONNX ModelProto starts with field 1 (ir_version) as a varint: 10.
            #expect(Array(reply.body.prefix(2)) == [0x08, 0x0A])
            #expect(reply.text.contains("applied-ai-testbed") && reply.text.contains("TreeEnsemble") && reply.text.contains("predict_interval"))
        }

        // The model card links to the download.
        let card = try await server.send(.GET, "/api/v1/models/servo-rise", key: owner).object
        #expect((card["exports"] as? [String: String])?["onnx"] == "/api/v1/models/servo-rise/versions/1/export?format=onnx")

        // Another tenant's model does not exist for the stranger, whatever the format.
        for path in ["/api/v1/models/servo-rise/export?format=onnx", "/api/v1/models/servo-rise/versions/1/export"] {
            let reply = try await server.send(.GET, path, key: stranger)
            #expect(reply.status == 404, "\(path): \(reply.status) \(reply.text.prefix(300))")
            #expect(!reply.text.contains("TreeEnsemble"))
        }

        // An unknown format is the client's mistake, and says which formats there are.
        let unknown = try await server.send(.GET, "/api/v1/models/servo-rise/export?format=pmml", key: owner)
        #expect(unknown.status == 400)
        #expect(unknown.object["error"] as? String == "unknown export format 'pmml'; known formats: onnx")
        let missingVersion = try await server.send(.GET, "/api/v1/models/servo-rise/versions/7/export?format=onnx", key: owner)
        #expect(missingVersion.status == 404)
        let noKey = try await server.send(.GET, "/api/v1/models/servo-rise/export?format=onnx", key: nil)
        #expect(noKey.status == 401)

        // Demonstration models export for every tenant.
        let demo = try await server.send(.GET, "/api/v1/models/glass-type/export?format=onnx", key: stranger)
        #expect(demo.status == 200 && demo.headers["Content-Disposition"].first == #"attachment; filename="glass-type-v1.onnx""#)
        let demoCard = try await server.send(.GET, "/api/v1/models/glass-type", key: stranger).object
        let demoLink = try #require((demoCard["exports"] as? [String: String])?["onnx"])
        let byLink = try await server.send(.GET, demoLink, key: stranger)
        #expect(byLink.status == 200 && byLink.body == demo.body)
        #expect(try await server.send(.GET, "/v2/health/live", key: nil).status == 200)
    }
}

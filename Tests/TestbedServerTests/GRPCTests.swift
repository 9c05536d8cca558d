import Foundation
import GRPCCore
import NIOHTTP1
import SwiftProtobuf
import Testing
@testable import TestbedServer

/// The Open Inference Protocol over gRPC, with grpc-swift's generated client over real sockets:
/// every RPC answers what its REST counterpart answers, and the numbers are `/predict`'s, bit for bit.
@Suite("Open Inference Protocol over gRPC", .serialized)
struct GRPCTests {
    /// One server with gRPC for the suite, and a tenant.
    actor Fixture {
        static let shared = Fixture()
        private var state: (server: ServerProcess, key: String)?

        func get() async throws -> (server: ServerProcess, key: String) {
            if let state { return state }
            let server = try ServerProcess(grpc: true)
            state = (server, try await server.createTenant("grpc-lab"))
            return state!
        }
    }

    @Test func theListenerLogsItsPortAndHealthNeedsNoKey() async throws {
        let (server, _) = try await Fixture.shared.get()
        #expect(server.grpcPort > 0 && server.grpcPort != server.port)
        #expect(server.logText.contains("\"grpc_port\":\"\(server.grpcPort)\"") || server.logText.contains("grpc_port=\(server.grpcPort)"))
        try await server.withGRPC { (client: InferenceClient) async throws in
            #expect(try await client.serverLive(Inference_ServerLiveRequest()).live)
            #expect(try await client.serverReady(Inference_ServerReadyRequest()).ready)
        }
    }

    @Test func aGRPCPortInUseStopsTheServerWithAClearError() async throws {
        let (server, _) = try await Fixture.shared.get()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let second = Process()
        second.executableURL = ServerProcess.executable
        second.arguments = ["serve", "--port", "0", "--grpc-port", "\(server.grpcPort)", "--data-dir", directory.path,
                            "--models-dir", ServerProcess.repositoryRoot.appendingPathComponent("models").path]
        second.environment = ProcessInfo.processInfo.environment.merging(["TESTBED_ADMIN_KEY": "admin"]) { $1 }
        let errors = Pipe()
        (second.standardError, second.standardOutput) = (errors, FileHandle.nullDevice)
        try second.run()
        // A server that went on running regardless would hold the test forever: a minute at most.
        let pid = second.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) { if second.isRunning { kill(pid, SIGKILL) } }
        // Both listeners start together; the one that cannot bind ends the process, HTTP included.
        let log = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.waitUntilExit()
        #expect(second.terminationStatus != 0)
        #expect(log.contains("gRPC cannot listen on 127.0.0.1:\(server.grpcPort)"), "\(log.suffix(600))")
        // The first is unaffected.
        try await server.withGRPC { (client: InferenceClient) async throws in
            #expect(try await client.serverLive(Inference_ServerLiveRequest()).live)
        }
    }

    @Test func metadataAndTheRepositoryAnswerAsOverREST() async throws {
        let (server, key) = try await Fixture.shared.get()
        let rest = try await server.send(.GET, "/v2", key: key).object
        let restModel = try await server.send(.GET, "/v2/models/glass-type", key: key).object
        try await server.withGRPC { (client: InferenceClient) async throws in
            let metadata = try await client.serverMetadata(Inference_ServerMetadataRequest(), metadata: bearer(key))
            #expect(metadata.name == rest["name"] as? String && metadata.version == rest["version"] as? String)
            #expect(metadata.extensions == rest["extensions"] as? [String])

            let model = try await client.modelMetadata(.with { $0.name = "glass-type" }, metadata: bearer(key))
            #expect(model.name == "glass-type" && model.platform == restModel["platform"] as? String && model.versions == restModel["versions"] as? [String])
            func tensors(_ list: Any?) -> [String] {
                (list as? [[String: Any]] ?? []).map { "\($0["name"]!) \($0["datatype"]!) \($0["shape"]!)" }
            }
            #expect(model.inputs.map { "\($0.name) \($0.datatype) \($0.shape)" } == tensors(restModel["inputs"]))
            #expect(model.outputs.map { "\($0.name) \($0.datatype) \($0.shape)" } == tensors(restModel["outputs"]))
            #expect(try await client.modelMetadata(.with { $0.name = "glass-type"; $0.version = "1" }, metadata: bearer(key)).name == "glass-type")
            #expect(try await client.modelReady(.with { $0.name = "glass-type" }, metadata: bearer(key)).ready)

            let index = try await client.repositoryIndex(Inference_RepositoryIndexRequest(), metadata: bearer(key))
            let restIndex = try await server.send(.POST, "/v2/repository/index", key: key).array
            #expect(index.models.map { "\($0.name) \($0.version) \($0.state) \($0.reason)" }
                    == restIndex.map { "\($0["name"]!) \($0["version"]!) \($0["state"]!) \($0["reason"]!)" })
            #expect(index.models.count == 4)
        }
    }

    @Test func unloadingAndLoadingChangeReadinessInTheTenantsViewOnly() async throws {
        let (server, key) = try await Fixture.shared.get()
        let other = try await server.createTenant("grpc-bystander")
        try await server.withGRPC { (client: InferenceClient) async throws in
            let name = Inference_ModelReadyRequest.with { $0.name = "oil-type" }
            _ = try await client.repositoryModelUnload(.with { $0.modelName = "oil-type" }, metadata: bearer(key))
            #expect(try await client.modelReady(name, metadata: bearer(key)).ready == false)
            #expect(try await client.modelReady(name, metadata: bearer(other)).ready)
            let ready = try await client.repositoryIndex(.with { $0.ready = true }, metadata: bearer(key))
            #expect(!ready.models.contains { $0.name == "oil-type" } && ready.models.count == 3)
            let all = try await client.repositoryIndex(Inference_RepositoryIndexRequest(), metadata: bearer(key))
            #expect(all.models.first { $0.name == "oil-type" }.map { "\($0.state) \($0.reason)" } == "UNAVAILABLE unloaded")
            // As over REST: 409 not_ready there, UNAVAILABLE here, with the same words.
            let rest = try await server.send(.POST, "/v2/models/oil-type/infer", key: key,
                                             json: ["inputs": [["name": "x", "shape": [1, 7], "datatype": "FP64", "data": [9.7, 5.2, 31, 52.7, 0.4, 0.4, 0.1]]]])
            let refused = await rpcError {
                _ = try await client.modelInfer(.with {
                    $0.modelName = "oil-type"
                    $0.inputs = [.with { $0.name = "x"; $0.datatype = "FP64"; $0.shape = [1, 7]; $0.contents.fp64Contents = [9.7, 5.2, 31, 52.7, 0.4, 0.4, 0.1] }]
                }, metadata: bearer(key))
            }
            #expect(rest.status == 409 && refused?.code == .unavailable && refused?.message == rest.error)

            _ = try await client.repositoryModelLoad(.with { $0.modelName = "oil-type" }, metadata: bearer(key))
            #expect(try await client.modelReady(name, metadata: bearer(key)).ready)
            let missing = await rpcError { _ = try await client.repositoryModelLoad(.with { $0.modelName = "turbine" }, metadata: bearer(key)) }
            let restMissing = try await server.send(.POST, "/v2/repository/models/turbine/load", key: key)
            #expect(missing?.code == .notFound && missing?.message == restMissing.error)
        }
    }

    /// A model, its dataset and how many rows of it to score.
    struct Sample: CustomTestStringConvertible, Sendable {
        var model: String
        var dataset: String
        var target: String
        var testDescription: String { model }
    }

    static let samples = [
        Sample(model: "glass-type", dataset: "Glass.csv", target: "Type"),
        Sample(model: "oil-type", dataset: "oils.csv", target: "class"),
        Sample(model: "servo-rise-time", dataset: "Servo.csv", target: "Class"),
        Sample(model: "rail-ridership", dataset: "Chicago.csv", target: "ridership"),
    ]

    @Test(arguments: samples, TensorForm.allCases)
    func typedAndRawTensorsScoreAsPredictDoesBitForBit(_ sample: Sample, _ form: TensorForm) async throws {
        let (server, key) = try await Fixture.shared.get()
        let rows = try SampleRows(sample.dataset, count: 25)
        let restModel = try await server.send(.GET, "/v2/models/\(sample.model)", key: key).object
        let inputs = (restModel["inputs"] as? [[String: Any]] ?? []).map { ($0["name"] as! String, $0["datatype"] as! String) }
        let features = inputs.map(\.0)
        let predicted = try await server.send(.POST, "/api/v1/models/\(sample.model)/predict", key: key,
                                              json: ["rows": rows.predictRows(numeric: Set(inputs.filter { $0.1 == "FP64" }.map(\.0)), features: features)])
        let expected = try JSONDecoder().decode(PredictAnswer.self, from: predicted.body).predictions
        #expect(expected.count == rows.rows.count)

        var requests = [Inference_ModelInferRequest.columns(model: sample.model, sample: rows, inputs: inputs, form: form)]
        if inputs.allSatisfy({ $0.1 == "FP64" }) {
            requests.append(.matrix(model: sample.model, sample: rows, features: features, form: form))
        }
        try await server.withGRPC { (client: InferenceClient) async throws in
            for request in requests {
                let response = try await client.modelInfer(request, metadata: bearer(key))
                // Raw inputs are answered raw (what tritonclient reads); typed ones typed.
                #expect(response.rawOutputContents.isEmpty == (form == .typed))
                #expect(response.modelName == sample.model && response.modelVersion == "1")
                if let probabilities = response.outputs.first(where: { $0.name == "predict_proba" }) {
                    let classes = try #require(probabilities.parameters["classes"]?.stringParam).split(separator: ",").map(String.init)
                    let labels = try #require(response.labels("predict"))
                    let values = try #require(response.numbers("predict_proba"))
                    #expect(labels == expected.map(\.prediction.text))
                    for (row, answer) in expected.enumerated() {
                        let restProbabilities = try #require(answer.probabilities)
                        for (column, label) in classes.enumerated() {
                            #expect(values[row * classes.count + column].bitPattern == restProbabilities[label]?.bitPattern, "row \(row) class \(label)")
                        }
                    }
                } else {
                    let values = try #require(response.numbers("predict"))
                    #expect(values.map(\.bitPattern) == expected.map { $0.prediction.number?.bitPattern })
                    let intervals = try #require(response.numbers("predict_interval"))
                    #expect(intervals.map(\.bitPattern) == expected.flatMap { ($0.interval ?? []).map(\.bitPattern) })
                }
            }
        }
    }

    @Test func binaryOutputsAreRawForAnyRequestThatAsksAndTypedWhenOneSaysNo() async throws {
        let (server, key) = try await Fixture.shared.get()
        let rows = try SampleRows("Glass.csv", count: 3)
        let features = ["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"]
        try await server.withGRPC { (client: InferenceClient) async throws in
            var typed = Inference_ModelInferRequest.matrix(model: "glass-type", sample: rows, features: features, form: .typed)
            typed.outputs = [.with { $0.name = "predict"; $0.parameters["binary_data"] = .with { $0.boolParam = true } }]
            let asked = try await client.modelInfer(typed, metadata: bearer(key))
            #expect(asked.rawOutputContents.count == 1 && asked.outputs.map(\.name) == ["predict"] && asked.outputs[0].contents.int64Contents.isEmpty)

            var raw = Inference_ModelInferRequest.matrix(model: "glass-type", sample: rows, features: features, form: .raw)
            raw.parameters["binary_data_output"] = .with { $0.boolParam = false }
            raw.id = "request-7"
            let declined = try await client.modelInfer(raw, metadata: bearer(key))
            #expect(declined.rawOutputContents.isEmpty && declined.id == "request-7")
            #expect(declined.labels("predict") == asked.labels("predict"))
            // Each row's id for feedback, as over REST.
            #expect(declined.parameters["prediction_ids"]?.stringParam.split(separator: ",").count == 3)
        }
    }
}

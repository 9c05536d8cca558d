import Foundation
import GRPCCore
import NIOHTTP1
import SwiftProtobuf
import Testing
@testable import TestbedServer

/// Bad calls over gRPC: each gets the status its HTTP counterpart maps to and a message that
/// says what is wrong; nothing stored changes and the server stays up.
@Suite("bad input over gRPC", .serialized)
struct GRPCBadInputTests {
    actor Fixture {
        static let shared = Fixture()
        private var state: (server: ServerProcess, key: String, otherKey: String)?

        /// A server with small limits, a tenant, and another tenant that owns a model.
        func get() async throws -> (server: ServerProcess, key: String, otherKey: String) {
            if let state { return state }
            let server = try ServerProcess(arguments: ["--max-rows", "50", "--max-request-bytes", "200000"], grpc: true)
            let key = try await server.createTenant("grpc-caller")
            let otherKey = try await server.createTenant("grpc-owner")
            let dataset = try await server.upload("Servo.csv", name: "servo", key: otherKey)
            let job = try await server.send(.POST, "/api/v1/jobs", key: otherKey,
                                            json: ["dataset": dataset, "target": "Class", "algorithms": "ridge", "model_name": "owner-model"])
            let id = try #require(job.object["id"] as? String, "\(job.text)")
            _ = try await server.watchJob(id, key: otherKey) { $0["state"] as? String == "succeeded" }
            state = (server, key, otherKey)
            return state!
        }
    }

    static let row: [Double] = [1.52101, 13.64, 4.49, 1.1, 71.78, 0.06, 8.75, 0, 0]

    /// A ModelInfer request for glass-type: one tensor of one row, changed by `change`.
    static func infer(_ change: (inout Inference_ModelInferRequest) -> Void = { _ in }) -> Inference_ModelInferRequest {
        var request = Inference_ModelInferRequest.with {
            $0.modelName = "glass-type"
            $0.inputs = [.with { $0.name = "input-0"; $0.datatype = "FP64"; $0.shape = [1, 9]; $0.contents.fp64Contents = row }]
        }
        change(&request)
        return request
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var request: Inference_ModelInferRequest
        var code: RPCError.Code
        var message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a shape that does not match the elements", request: infer { $0.inputs[0].shape = [1, 8] },
             code: .invalidArgument, message: "shape [1, 8] holds 8 values but data has 9"),
        Case(name: "a negative size", request: infer { $0.inputs[0].shape = [-1, 9] },
             code: .invalidArgument, message: "is not a tensor shape"),
        Case(name: "a shape whose product overflows", request: infer { $0.inputs[0].shape = [1 << 40, 1 << 40]; $0.rawInputContents = [Data(count: 8)]; $0.inputs[0].contents = .init() },
             code: .invalidArgument, message: "holds more values than any request can carry"),
        Case(name: "elements in the wrong typed field", request: infer { $0.inputs[0].contents = .with { $0.fp32Contents = row.map(Float.init) } },
             code: .invalidArgument, message: "go in contents.fp64_contents, but 9 are in contents.fp32_contents"),
        Case(name: "FP16 in typed contents", request: infer { $0.inputs[0].datatype = "FP16"; $0.inputs[0].contents = .init() },
             code: .invalidArgument, message: "FP16 has no typed contents"),
        Case(name: "an unknown datatype", request: infer { $0.inputs[0].datatype = "FP128" },
             code: .invalidArgument, message: "datatype 'FP128' is not supported"),
        Case(name: "an INT8 element out of range", request: infer { $0.inputs[0].datatype = "INT8"; $0.inputs[0].contents = .with { $0.intContents = [1, 13, 4, 1, 71, 0, 300, 0, 0] } },
             code: .invalidArgument, message: "element 6: 300 is outside the range of INT8"),
        Case(name: "a non-finite number", request: infer { $0.inputs[0].contents.fp64Contents[2] = .infinity },
             code: .invalidArgument, message: "element 2: inf is not a finite number"),
        Case(name: "raw contents for some inputs only", request: infer {
                 $0.inputs.append(.with { $0.name = "extra"; $0.datatype = "FP64"; $0.shape = [1] })
                 $0.inputs[0].contents = .init()
                 $0.rawInputContents = [RawBytes.doubles(row)]
             }, code: .invalidArgument, message: "raw_input_contents has 1 entry for 2 inputs"),
        Case(name: "both typed and raw elements", request: infer { $0.rawInputContents = [RawBytes.doubles(row)] },
             code: .invalidArgument, message: "has elements in contents.fp64_contents and in raw_input_contents[0]"),
        Case(name: "raw bytes shorter than the shape", request: infer { $0.inputs[0].contents = .init(); $0.rawInputContents = [RawBytes.doubles(row).dropLast(3)] },
             code: .invalidArgument, message: "69 bytes of binary data, but 9 elements of FP64 take 72 bytes"),
        Case(name: "a truncated BYTES length prefix", request: .with {
                 $0.modelName = "servo-rise-time"
                 $0.inputs = [.with { $0.name = "Motor"; $0.datatype = "BYTES"; $0.shape = [2] }]
                 // 8 bytes, room for two lengths: the first element takes 5, the second's length is cut after 3.
                 $0.rawInputContents = [RawBytes.strings(["E"]) + Data([2, 0, 0])]
             }, code: .invalidArgument, message: "element 1: the binary data ends inside its 4-byte length"),
        Case(name: "a BYTES length prefix past the end", request: .with {
                 $0.modelName = "servo-rise-time"
                 $0.inputs = [.with { $0.name = "Motor"; $0.datatype = "BYTES"; $0.shape = [1] }]
                 $0.rawInputContents = [Data([0xFF, 0xFF, 0xFF, 0x7F, 0x45])]
             }, code: .invalidArgument, message: "its length prefix says 2147483647 bytes, but only 1 remain"),
        Case(name: "text that is not UTF-8", request: .with {
                 $0.modelName = "servo-rise-time"
                 $0.inputs = [.with { $0.name = "Motor"; $0.datatype = "BYTES"; $0.shape = [1]; $0.contents.bytesContents = [Data([0xC3, 0x28])] }]
             }, code: .invalidArgument, message: "element 0: its bytes are not UTF-8 text"),
        Case(name: "an unknown output", request: infer { $0.outputs = [.with { $0.name = "scores" }] },
             code: .invalidArgument, message: "output 'scores' is not known"),
        Case(name: "binary_data that is not a flag", request: infer { $0.outputs = [.with { $0.name = "predict"; $0.parameters["binary_data"] = .with { $0.stringParam = "yes" } }] },
             code: .invalidArgument, message: "outputs[0].parameters.binary_data: expected a bool_param"),
        Case(name: "no inputs", request: infer { $0.inputs = [] },
             code: .invalidArgument, message: "'inputs' is empty"),
        Case(name: "more rows than the limit", request: infer { $0.inputs[0].shape = [51, 9]; $0.inputs[0].contents.fp64Contents = Array(repeating: row, count: 51).flatMap { $0 } },
             code: .resourceExhausted, message: "51 rows in one request; this server scores at most 50"),
        Case(name: "an unknown model", request: infer { $0.modelName = "turbine" },
             code: .notFound, message: "there is no model 'turbine'"),
        Case(name: "an unknown version", request: infer { $0.modelVersion = "7" },
             code: .notFound, message: "its only version is 1"),
        Case(name: "a version that is not a number", request: infer { $0.modelVersion = "latest" },
             code: .notFound, message: "has no version 'latest'"),
        Case(name: "another tenant's model", request: infer { $0.modelName = "owner-model" },
             code: .notFound, message: "there is no model 'owner-model'"),
    ]

    @Test(arguments: cases)
    func isRefusedWithTheStatusAndMessage(_ bad: Case) async throws {
        let (server, key, _) = try await Fixture.shared.get()
        let stored = try await server.send(.GET, "/api/v1/datasets", key: key).text
        try await server.withGRPC { (client: InferenceClient) async throws in
            let error = await rpcError { _ = try await client.modelInfer(bad.request, metadata: bearer(key)) }
            #expect(error?.code == bad.code, "\(String(describing: error))")
            #expect(error?.message.contains(bad.message) == true, "\(String(describing: error))")
            #expect(error?.metadata[stringValues: "x-request-id"].first(where: { _ in true }) != nil)
            #expect(try await client.serverLive(Inference_ServerLiveRequest()).live)
        }
        #expect(try await server.send(.GET, "/api/v1/datasets", key: key).text == stored)
    }

    /// The same bodies over REST answer the same words: the message is the server's, not the carrier's.
    @Test func messagesAreTheSameAsOverREST() async throws {
        let (server, key, _) = try await Fixture.shared.get()
        let rest = try await server.send(.POST, "/v2/models/glass-type/infer", key: key,
                                         json: ["inputs": [["name": "input-0", "shape": [1, 8], "datatype": "FP64", "data": Self.row]], "outputs": [["name": "scores"]]])
        let other = try await server.send(.POST, "/v2/models/owner-model/infer", key: key, json: ["inputs": []])
        try await server.withGRPC { (client: InferenceClient) async throws in
            let shape = await rpcError { _ = try await client.modelInfer(Self.infer { $0.inputs[0].shape = [1, 8]; $0.outputs = [.with { $0.name = "scores" }] }, metadata: bearer(key)) }
            #expect(rest.status == 422 && shape?.message == rest.error)
            let hidden = await rpcError { _ = try await client.modelInfer(Self.infer { $0.modelName = "owner-model" }, metadata: bearer(key)) }
            #expect(other.status == 404 && hidden?.message == other.error)
        }
    }

    struct AuthCase: CustomTestStringConvertible, Sendable {
        var name: String
        /// The `authorization` value; "KEY", "OTHER" and "ADMIN" stand for the keys.
        var authorization: String?
        var code: RPCError.Code
        var message: String
        var testDescription: String { name }
    }

    static let authCases: [AuthCase] = [
        AuthCase(name: "no key", authorization: nil, code: .unauthenticated, message: "needs an API key: send 'Authorization: Bearer <key>'"),
        AuthCase(name: "an unknown key", authorization: "Bearer tb_nothing", code: .unauthenticated, message: "the API key is not valid"),
        AuthCase(name: "another scheme", authorization: "Basic KEY", code: .unauthenticated, message: "must be 'Bearer <key>'"),
        AuthCase(name: "the admin key", authorization: "Bearer ADMIN", code: .permissionDenied, message: "the admin key manages tenants"),
    ]

    @Test(arguments: authCases)
    func everyKeyedRPCRefusesABadKeyAsHTTPDoes(_ auth: AuthCase) async throws {
        let (server, key, otherKey) = try await Fixture.shared.get()
        let value = auth.authorization.map {
            $0.replacingOccurrences(of: "ADMIN", with: server.adminKey!).replacingOccurrences(of: "OTHER", with: otherKey).replacingOccurrences(of: "KEY", with: key)
        }
        var metadata = Metadata()
        if let value { metadata.addString(value, forKey: "authorization") }
        let rest = try await server.send(.GET, "/v2/models/glass-type", key: nil, headers: value.map { [("Authorization", $0)] } ?? [])
        try await server.withGRPC { (client: InferenceClient) async throws in
            let calls: [(String, () async throws -> Void)] = [
                ("ServerMetadata", { _ = try await client.serverMetadata(Inference_ServerMetadataRequest(), metadata: metadata) }),
                ("ModelMetadata", { _ = try await client.modelMetadata(.with { $0.name = "glass-type" }, metadata: metadata) }),
                ("ModelReady", { _ = try await client.modelReady(.with { $0.name = "glass-type" }, metadata: metadata) }),
                ("ModelInfer", { _ = try await client.modelInfer(Self.infer(), metadata: metadata) }),
                ("RepositoryIndex", { _ = try await client.repositoryIndex(Inference_RepositoryIndexRequest(), metadata: metadata) }),
                ("RepositoryModelLoad", { _ = try await client.repositoryModelLoad(.with { $0.modelName = "glass-type" }, metadata: metadata) }),
                ("RepositoryModelUnload", { _ = try await client.repositoryModelUnload(.with { $0.modelName = "glass-type" }, metadata: metadata) }),
            ]
            for (name, call) in calls {
                let error = await rpcError(call)
                // Server metadata needs a key but no tenant, as REST's GET /v2: the admin key may read it.
                if name == "ServerMetadata" && auth.code == .permissionDenied {
                    #expect(error == nil, "\(String(describing: error))")
                    continue
                }
                #expect(error?.code == auth.code && error?.message.contains(auth.message) == true, "\(name): \(String(describing: error))")
                if name == "ModelMetadata" { #expect(error?.message == rest.error, "\(rest.text)") }
            }
            // Health is for load balancers: no key needed, whatever is sent.
            #expect(try await client.serverLive(Inference_ServerLiveRequest(), metadata: metadata).live)
            #expect(try await client.serverReady(Inference_ServerReadyRequest(), metadata: metadata).ready)
        }
        // Nothing was unloaded by a refused call.
        #expect(try await server.send(.GET, "/v2/models/glass-type/ready", key: key).status == 200)
    }

    @Test func aLoadThatWouldReplaceTheModelIsRefused() async throws {
        let (server, key, _) = try await Fixture.shared.get()
        try await server.withGRPC { (client: InferenceClient) async throws in
            let error = await rpcError {
                _ = try await client.repositoryModelLoad(.with { $0.modelName = "glass-type"; $0.parameters["config"] = .with { $0.stringParam = "{}" } }, metadata: bearer(key))
            }
            #expect(error?.code == .invalidArgument && error?.message.contains("load parameter 'config' is not supported") == true)
        }
    }

    @Test func aMessageOverTheRequestLimitIsRefusedAndTheConnectionServesOn() async throws {
        let (server, key, _) = try await Fixture.shared.get()
        try await server.withGRPC { (client: InferenceClient) async throws in
            // One row fits every other limit; with a 200,000-byte id the message does not fit 200,000 bytes.
            let big = Self.infer { $0.id = String(repeating: "x", count: 200_000) }
            let error = await rpcError { _ = try await client.modelInfer(big, metadata: bearer(key)) }
            #expect(error?.code == .resourceExhausted, "\(String(describing: error))")
            #expect(error?.message.contains("this server accepts at most 200000 (--max-request-bytes)") == true, "\(String(describing: error))")
            // The same connection goes on serving.
            #expect(try await client.modelInfer(Self.infer(), metadata: bearer(key)).outputs.isEmpty == false)
        }
    }

    @Test func theRateLimitIsSharedWithHTTP() async throws {
        // One request per 1,000 seconds: the bucket holds one token, so the test does not depend on
        // how quickly a loaded machine sends the two requests.
        let server = try ServerProcess(arguments: ["--rate-limit", "0.001"], grpc: true)
        let key = try await server.createTenant("hasty")
        try await server.withGRPC { (client: InferenceClient) async throws in
            // The health check needs no key: it opens the connection without spending the token.
            #expect(try await client.serverLive(Inference_ServerLiveRequest()).live)
            // The HTTP request spends the one token, so the RPC with the same key is refused.
            #expect(try await server.send(.GET, "/api/v1/models", key: key).status == 200)
            let error = await rpcError { _ = try await client.serverMetadata(Inference_ServerMetadataRequest(), metadata: bearer(key)) }
            #expect(error?.code == .resourceExhausted && error?.message.contains("more than 0.001 requests per second with this key") == true, "\(String(describing: error))")
            let wait = error?.metadata[stringValues: "retry-after"].first(where: { _ in true }).flatMap { Int($0) }
            #expect(wait.map { (1...1000).contains($0) } == true, "retry-after \(String(describing: wait))")
        }
    }
}

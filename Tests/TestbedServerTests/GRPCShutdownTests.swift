import Foundation
import GRPCCore
import NIOHTTP1
import SwiftProtobuf
import Testing
@testable import TestbedServer

/// SIGTERM with work in flight on both listeners: both stop accepting, what was in flight is
/// answered in full, then the process exits cleanly.
@Suite("graceful shutdown with gRPC", .serialized)
struct GRPCShutdownTests {
    static let rows = 100_000
    static let row: [Double] = [1.52101, 13.64, 4.49, 1.1, 71.78, 0.06, 8.75, 0, 0]

    @Test func rpcsAndRequestsInFlightAreAnsweredBeforeTheServerStops() async throws {
        // Debug logs say when each call and request has been accepted.
        let server = try ServerProcess(arguments: ["--log-level", "debug"], grpc: true)
        let key = try await server.createTenant("draining")
        let request = Inference_ModelInferRequest.with {
            $0.modelName = "glass-type"
            $0.inputs = [.with { $0.name = "input-0"; $0.datatype = "FP64"; $0.shape = [Int64(Self.rows), 9] }]
            $0.rawInputContents = [RawBytes.doubles(Array(repeating: Self.row, count: Self.rows).flatMap { $0 })]
            $0.outputs = [.with { $0.name = "predict" }]
        }
        let options = {
            var options = CallOptions.defaults
            options.maxRequestMessageBytes = 16 << 20
            return options
        }()
        let json = try JSONSerialization.data(withJSONObject: [
            "inputs": [["name": "input-0", "shape": [Self.rows, 9], "datatype": "FP64", "data": Array(repeating: Self.row, count: Self.rows).flatMap { $0 }]],
            "outputs": [["name": "predict"]],
        ])

        let terminated = LockedDate()
        try await server.withGRPC { (client: InferenceClient) async throws in
            _ = try await client.serverLive(Inference_ServerLiveRequest())
            try await withThrowingTaskGroup(of: (String, Date).self) { group in
                for index in 0..<3 {
                    group.addTask {
                        let response = try await client.modelInfer(request, metadata: bearer(key), options: options)
                        #expect(RawBytes.readInt64s(response.rawOutputContents[0]).count == Self.rows)
                        return ("rpc \(index)", Date())
                    }
                }
                group.addTask {
                    let reply = try await server.send(.POST, "/v2/models/glass-type/infer", key: key, body: json)
                    #expect(reply.status == 200, "\(reply.text.prefix(300))")
                    return ("http", Date())
                }
                // Every call and the request accepted by the server (their bodies may still be arriving).
                let deadline = Date().addingTimeInterval(120)
                while Date() < deadline {
                    let log = server.logText
                    if log.components(separatedBy: "\"rpc started\"").count - 1 >= 4 && log.contains("/v2/models/glass-type/infer") { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                terminated.set(Date())
                server.beginShutdown()
                for try await (name, finished) in group {
                    #expect(finished > terminated.value!, "\(name) was answered before the shutdown began, so it was not in flight")
                }
            }
        }
        #expect(server.waitForExit() == 0)
        #expect(server.logText.contains("gRPC stopped"))
    }
}

/// A date set by one task and read by others.
final class LockedDate: @unchecked Sendable {
    private let lock = NSLock()
    private var date: Date?

    func set(_ value: Date) { lock.withLock { date = value } }
    var value: Date? { lock.withLock { date } }
}

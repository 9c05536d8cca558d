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
                // The HTTP request's body is held back by its last byte, so that it is in flight
                // however fast the machine; the byte follows the SIGTERM.
                let http = try RawConnection(port: server.port)
                let head = "POST /v2/models/glass-type/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\nContent-Type: application/json\r\nContent-Length: \(json.count)\r\n\r\n"
                #expect(http.sendAll(Array(head.utf8) + json.dropLast()))
                // Every call and the request accepted by the server (their bodies may still be arriving).
                let deadline = Date().addingTimeInterval(120)
                while Date() < deadline {
                    let log = server.logText
                    if log.components(separatedBy: "\"rpc started\"").count - 1 >= 4 && log.contains("/v2/models/glass-type/infer") { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                terminated.set(Date())
                server.beginShutdown()
                #expect(http.sendAll([json.last!]))
                let answer = http.receive(waiting: 120, until: RawConnection.wholeAnswer).bytes
                #expect(String(decoding: answer.prefix(15), as: UTF8.self) == "HTTP/1.1 200 OK", "\(String(decoding: answer.prefix(300), as: UTF8.self))")
                #expect(RawConnection.wholeAnswer(answer))
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

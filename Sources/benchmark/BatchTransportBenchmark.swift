import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import InferenceCore

/// A 10,000-row × 20-column batch scored over the Open Inference Protocol's REST transports,
/// JSON and the binary tensor data extension, each against the model's own compute time for the
/// same rows in this process: what a request costs beyond the model is the transport. The model and
/// batch are the server suite's gRPC batch (``GRPCBenchmark/prepareModels()``), served by a
/// `testbed serve` of its own; the three are measured in turn, round after round, over one
/// kept-alive connection each.
enum BatchTransportBenchmark {
    static func run(_ context: BenchmarkContext) throws -> [Result] {
        guard let executable = TestbedProcess.executable(context, suite: "transport") else { return [] }
        let (directory, model, batch) = try GRPCBenchmark.prepareModels()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try TestbedProcess(executable: executable, modelsDirectory: directory.path)
        defer { server.stop() }
        let key = try server.createTenant()

        let (rows, features) = (batch.rows, batch.columns)
        let path = "/v2/models/\(GRPCBenchmark.batchModel)/infer"
        let json = Data(#"{"inputs":[{"name":"input-0","shape":[\#(rows),\#(features)],"datatype":"FP64","data":[\#(batch.storage.map { "\($0)" }.joined(separator: ","))]}],"outputs":[{"name":"predict"}]}"#.utf8)
        let header = Data(#"{"inputs":[{"name":"input-0","shape":[\#(rows),\#(features)],"datatype":"FP64","parameters":{"binary_data_size":\#(batch.storage.count * 8)}}],"outputs":[{"name":"predict","parameters":{"binary_data":true}}]}"#.utf8)
        let binary = header + batch.storage.withUnsafeBytes { Data($0) }

        let jsonClient = try HTTPConnection(port: server.port), binaryClient = try HTTPConnection(port: server.port)
        let authorization = "Bearer \(key)"
        let post = { (client: HTTPConnection, body: Data, headers: [String: String]) throws in
            let (status, reply) = try client.post(path, body: body, headers: headers.merging(["Authorization": authorization]) { a, _ in a })
            guard status == 200 else { throw ValidationError("\(path) answered \(status): \(String(decoding: reply.prefix(300), as: UTF8.self))") }
        }
        let table = GRPCBenchmark.table(batch)
        let repetitions = context.quick ? 3 : max(10, context.repetitions)
        let (compute, transports) = try Timing.alternate(repetitions: repetitions, warmUp: true, ours: {
            _ = try model.predict(table)
        }, peers: [{
            try Timing.seconds { try post(binaryClient, binary, ["Content-Type": "application/octet-stream", "Inference-Header-Content-Length": "\(header.count)"]) }
        }, {
            try Timing.seconds { try post(jsonClient, json, ["Content-Type": "application/json"]) }
        }])
        var results: [Result] = []
        for (transport, timing, bytes) in [("binary", transports[0], binary.count), ("JSON", transports[1], json.count)] {
            var result = Result(suite: "transport", name: "v2 infer \(rows) rows × \(features), gbdt, \(transport), 1 conn", unit: "rows/s",
                                work: Double(rows), timing: timing,
                                parameters: ["api": "v2 infer (\(transport))", "rows": "\(rows)", "concurrency": "1"],
                                extra: ["compute_ms": compute.median * 1000, "request_ms": timing.median * 1000,
                                        "request_to_compute": timing.median / compute.median, "request_MB": Double(bytes) / 1e6])
            result.extra["compute_share"] = compute.median / timing.median
            print(result.line)
            results.append(result)
        }
        return results
    }
}

/// One kept-alive HTTP/1.1 connection on loopback: a request written whole, the response read
/// to its Content-Length. Enough for timing large bodies without a client library's own costs.
final class HTTPConnection {
    private let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ValidationError("cannot connect to 127.0.0.1:\(port)") }
    }

    deinit { close(socket) }

    func post(_ path: String, body: Data, headers: [String: String]) throws -> (status: Int, body: Data) {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        try write(Data((head + "\r\n").utf8) + body)
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if let end = received.firstRange(of: Data("\r\n\r\n".utf8)) {
                let header = String(decoding: received[..<end.lowerBound], as: UTF8.self)
                let status = Int(header.split(separator: " ").dropFirst().first ?? "") ?? 0
                let length = header.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count - end.upperBound >= length { return (status, received[end.upperBound..<(end.upperBound + length)]) }
            }
            let count = read(socket, &buffer, buffer.count)
            guard count > 0 else { throw ValidationError("the connection closed mid-response") }
            received.append(buffer, count: count)
        }
    }

    private func write(_ data: Data) throws {
        try data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let count = send(socket, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                guard count > 0 else { throw ValidationError("the connection closed mid-request") }
                offset += count
            }
        }
    }
}

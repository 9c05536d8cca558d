import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf

/// A small gRPC load generator on grpc-swift (ghz is not packaged here): `streams` unary
/// `ModelInfer` calls kept in flight at once over `connections` HTTP/2 connections, each stream
/// sending its next call when its last is answered, as wrk's connections do over HTTP/1.1.
struct GRPCLoad {
    let port: Int
    let key: String
    /// Connections the streams share; gRPC clients multiplex, so a few carry many streams.
    var connections = 4

    /// Calls made, calls per second, and the latency percentiles in milliseconds (`p50_ms`,
    /// `p90_ms`, `p99_ms`, `max_ms`) of `seconds` of load. Any failed call fails the run.
    func run(_ request: Inference_ModelInferRequest, streams: Int, seconds: Double) throws -> (rate: Double, latency: [String: Double]) {
        try blocking { try await self.load(request, streams: streams, seconds: seconds) }
    }

    private func load(_ request: Inference_ModelInferRequest, streams: Int, seconds: Double) async throws -> (rate: Double, latency: [String: Double]) {
        let clients = try (0..<connections).map { _ in
            GRPCClient(transport: try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext))
        }
        let metadata: Metadata = ["authorization": "Bearer \(key)"]
        let options = {
            var options = CallOptions.defaults
            options.maxRequestMessageBytes = 64 << 20
            options.maxResponseMessageBytes = 64 << 20
            return options
        }()
        return try await withThrowingTaskGroup(of: Void.self) { connectionTasks in
            for client in clients { connectionTasks.addTask { try await client.runConnections() } }
            defer { for client in clients { client.beginGracefulShutdown() } }
            let started = Date()
            let deadline = started.addingTimeInterval(seconds)
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for stream in 0..<streams {
                    let client = Inference_GRPCInferenceService.Client(wrapping: clients[stream % clients.count])
                    group.addTask {
                        var seen: [Double] = []
                        while Date() < deadline {
                            let begin = DispatchTime.now().uptimeNanoseconds
                            let response = try await client.modelInfer(request, metadata: metadata, options: options)
                            guard !response.outputs.isEmpty else { throw GRPCLoadError("a ModelInfer answer had no outputs") }
                            seen.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6)
                        }
                        return seen
                    }
                }
                return try await group.reduce(into: [Double]()) { $0 += $1 }
            }
            let elapsed = Date().timeIntervalSince(started)
            let sorted = latencies.sorted()
            func percentile(_ share: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * share))] }
            return (Double(latencies.count) / elapsed,
                    ["p50_ms": percentile(0.5), "p90_ms": percentile(0.9), "p99_ms": percentile(0.99), "max_ms": sorted.last ?? 0])
        }
    }
}

struct GRPCLoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs async work from the harness's synchronous code and waits for it.
func blocking<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) throws -> Value {
    let box = BlockingResult<Value>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// Written by the task before the semaphore is signalled, read after.
private final class BlockingResult<Value>: @unchecked Sendable {
    var result: Swift.Result<Value, any Error>?
}

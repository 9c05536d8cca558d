import Foundation
import SwiftProtobuf

/// gRPC unary calls from h2load (nghttp2's HTTP/2 load generator, Debian's `nghttp2-client`,
/// installed by bench/peers/setup.sh): a C program, as wrk is on the HTTP side, so that the load
/// generator takes about as much of the two cores from the server on both sides. It posts one
/// gRPC message (a 5-byte length prefix and the protobuf bytes) with gRPC's headers,
/// `connections` × `streams` calls in flight, each stream sending its next call when its last is
/// answered.
///
/// h2load counts an HTTP 200 as a success, and a refused gRPC call is an HTTP 200 too, with its
/// status in the trailers. So a run also needs the server's count of the predictions it made in
/// that time to be at least h2load's count of answered calls: a refused call scores nothing.
struct GRPCH2Load {
    let h2load: String
    let port: Int
    let key: String

    struct Run {
        var rate: Double
        /// Calls answered with an HTTP 200, and calls sent, within the timed seconds.
        var succeeded: Int
        var started: Int
        /// p50_ms, p90_ms, p99_ms and max_ms, from h2load's per-request log.
        var latency: [String: Double]
    }

    /// The version h2load reports (`h2load nghttp2/1.52.0`), for the report.
    func version() -> String {
        ((try? runToEnd(h2load, ["--version"])) ?? "h2load").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One run of `seconds` (after `warmUp` seconds that are not counted) with `connections`
    /// HTTP/2 connections of `streams` concurrent calls each. Throws when any call failed.
    func run(_ request: Inference_ModelInferRequest, connections: Int, streams: Int, seconds: Int, warmUp: Int = 0) throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("h2load-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let body = directory.appendingPathComponent("request.bin"), log = directory.appendingPathComponent("requests.tsv")
        try Self.framed(request).write(to: body)
        var arguments = ["-t1", "-c\(connections)", "-m\(streams)", "-D\(seconds)", "-d", body.path, "--log-file=\(log.path)",
                         "-H", "content-type: application/grpc", "-H", "te: trailers", "-H", "authorization: Bearer \(key)"]
        if warmUp > 0 { arguments.append("--warm-up-time=\(warmUp)") }
        let text = try runToEnd(h2load, arguments + ["http://127.0.0.1:\(port)/inference.GRPCInferenceService/ModelInfer"])
        guard let rate = text.firstMatch(of: /finished in [^,]+, ([\d.]+) req\/s/).flatMap({ Double($0.1) }),
              let counts = text.firstMatch(of: /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/) else {
            throw GRPCLoadError("h2load's summary could not be read:\n\(text)")
        }
        let (started, done, succeeded) = (Int(counts.2)!, Int(counts.3)!, Int(counts.4)!)
        guard succeeded == done, succeeded > 0 else { throw GRPCLoadError("h2load: \(done - succeeded) of \(done) calls failed:\n\(text)") }
        return Run(rate: rate, succeeded: succeeded, started: started, latency: try Self.latency(log))
    }

    /// A gRPC message as it travels in DATA frames: not compressed (0), its length (4 bytes,
    /// big-endian), its bytes.
    static func framed(_ message: some SwiftProtobuf.Message) throws -> Data {
        let bytes: Data = try message.serializedBytes()
        var framed = Data([0])
        withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { framed.append(contentsOf: $0) }
        return framed + bytes
    }

    /// Percentiles of the per-request log: start (µs since the epoch), HTTP status, µs to the end of the answer.
    private static func latency(_ log: URL) throws -> [String: Double] {
        let sorted = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
            .compactMap { line in line.split(separator: "\t").last.flatMap { Double($0) } }.sorted()
        guard !sorted.isEmpty else { return [:] }
        func percentile(_ share: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * share))] / 1000 }
        return ["p50_ms": percentile(0.5), "p90_ms": percentile(0.9), "p99_ms": percentile(0.99), "max_ms": sorted.last! / 1000]
    }
}

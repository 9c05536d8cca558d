import ArgumentParser
import Foundation
import InferenceCore

/// The `server` suite: `testbed serve` started on loopback, loaded by `wrk` (Debian's package)
/// with keep-alive connections; requests per second with latency percentiles, batch scoring
/// against the model's own compute time, and the server's resident memory.
enum ServerBenchmark {
    static func run(_ context: BenchmarkContext) throws -> [Result] {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("testbed")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            print("server   skipped: \(executable.path) is not built (swift build -c release)")
            return []
        }
        guard let wrk = which("wrk") else {
            print("server   skipped: wrk is not installed (apt-get install wrk)")
            return []
        }
        let server = try TestbedProcess(executable: executable)
        defer { server.stop() }
        let idle = server.residentBytes()
        let key = try server.createTenant()
        let seconds = context.quick ? 3 : 10
        let glassRow = "[1.52101,13.64,4.49,1.1,71.78,0.06,8.75,0.0,0.0]"
        let v2Single = #"{"inputs":[{"name":"input-0","shape":[1,9],"datatype":"FP64","data":\#(glassRow)}]}"#
        let v1Single = #"{"rows":[{"RI":1.52101,"Na":13.64,"Mg":4.49,"Al":1.1,"Si":71.78,"K":0.06,"Ca":8.75,"Ba":0.0,"Fe":0.0}]}"#
        let oilSingle = #"{"inputs":[{"name":"input-0","shape":[1,7],"datatype":"FP64","data":[9.7,5.2,31,52.7,0.4,0.4,0.1]}]}"#
        let batchRows = 10_000
        let batch = #"{"inputs":[{"name":"input-0","shape":[\#(batchRows),9],"datatype":"FP64","data":[\#(Array(repeating: glassRow, count: batchRows).joined(separator: ","))]}]}"#

        var results: [Result] = []
        let load = WrkLoad(wrk: wrk, port: server.port, key: key, seconds: seconds, repetitions: context.repetitions)
        for connections in [1, 64] {
            results.append(try load.measure("v2 infer 1 row, random forest, \(connections) conn", path: "/v2/models/glass-type/infer", body: v2Single, connections: connections))
        }
        results.append(try load.measure("v2 infer 1 row, logistic, 64 conn", path: "/v2/models/oil-type/infer", body: oilSingle, connections: 64))
        results.append(try load.measure("v1 predict 1 row, random forest, 64 conn", path: "/api/v1/models/glass-type/predict", body: v1Single, connections: 64))
        var batchResult = try load.measure("v2 infer \(batchRows) rows, random forest, 1 conn", path: "/v2/models/glass-type/infer", body: batch, connections: 1)
        batchResult.extra["compute_ms"] = try computeMilliseconds(rows: batchRows, row: glassRow, repetitions: context.repetitions)
        batchResult.extra["compute_share"] = batchResult.extra["compute_ms"]! / (batchResult.timing.median * 1000)
        results.append(batchResult)
        let loaded = server.residentBytes()
        results.append(Result(suite: "server", name: "resident memory, idle / after load", unit: "MB", work: idle / 1e6,
                              timing: Timing(seconds: [1], cpuSeconds: [1]), extra: ["after_load_MB": loaded / 1e6]))
        return results
    }

    /// The model's own time for the batch, in process: what the request costs beyond it is HTTP and JSON.
    private static func computeMilliseconds(rows: Int, row: String, repetitions: Int) throws -> Double {
        let model = try TrainedModel.load(from: "models/glass-type.json")
        let values = row.dropFirst().dropLast().split(separator: ",").map { Double($0)! }
        let columns = model.preprocessor.inputColumns.enumerated().map { index, name in
            Column(name: name, values: .numeric([Double](repeating: values[index], count: rows)))
        }
        let table = DataTable(columns: columns)
        return try Timing.measure(repetitions: repetitions) { _ = try model.predict(table) }.median * 1000
    }

    private static func which(_ command: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map { "\($0)/\(command)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Runs wrk against one route and reads its summary.
struct WrkLoad {
    let wrk: String
    let port: Int
    let key: String
    let seconds: Int
    let repetitions: Int

    /// `repetitions` runs of `seconds` each after a short warm-up; the timing is seconds per
    /// request (so the rate is requests per second) and the latency percentiles are the medians
    /// over the runs, in milliseconds.
    func measure(_ name: String, path: String, body: String, connections: Int) throws -> Result {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("wrk-\(UUID()).lua")
        let escaped = body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        try """
            wrk.method = "POST"
            wrk.body = '\(escaped)'
            wrk.headers["Content-Type"] = "application/json"
            wrk.headers["Authorization"] = "Bearer \(key)"
            """.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        _ = try run(script: script.path, path: path, connections: connections, seconds: 1)
        var timing = Timing(seconds: [], cpuSeconds: [])
        var percentiles: [String: [Double]] = [:]
        for _ in 0..<repetitions {
            let summary = try run(script: script.path, path: path, connections: connections, seconds: seconds)
            timing.seconds.append(1 / summary.rate)
            timing.cpuSeconds.append(1 / summary.rate)
            for (label, value) in summary.latency { percentiles[label, default: []].append(value) }
        }
        return Result(suite: "server", name: name, unit: "req/s", work: 1, timing: timing,
                      extra: percentiles.mapValues { Timing.median($0) })
    }

    private func run(script: String, path: String, connections: Int, seconds: Int) throws -> (rate: Double, latency: [String: Double]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t1", "-c\(connections)", "-d\(seconds)s", "--latency", "-s", script, "http://127.0.0.1:\(port)\(path)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard !text.contains("Non-2xx"), let rate = text.firstMatch(of: /Requests\/sec:\s+([\d.]+)/).flatMap({ Double($0.1) }) else {
            throw ValidationError("wrk against \(path) did not succeed:\n\(text)")
        }
        var latency: [String: Double] = [:]
        for match in text.matches(of: /\s+(50|90|99)%\s+([\d.]+)(us|ms|s)/) {
            latency["p\(match.1)_ms"] = Self.milliseconds(Double(match.2)!, unit: String(match.3))
        }
        if let max = text.firstMatch(of: /Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/) {
            latency["max_ms"] = Self.milliseconds(Double(max.1)!, unit: String(max.2))
        }
        return (rate, latency)
    }

    private static func milliseconds(_ value: Double, unit: String) -> Double {
        switch unit {
        case "us": return value / 1000
        case "s": return value * 1000
        default: return value
        }
    }
}

/// `testbed serve` on port 0 with a fresh data directory and the demonstration models.
final class TestbedProcess {
    private let process = Process()
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-bench-\(UUID())")
    private let adminKey = UUID().uuidString
    private(set) var port = 0

    init(executable: URL) throws {
        process.executableURL = executable
        process.arguments = ["serve", "--port", "0", "--data-dir", directory.path, "--models-dir", "models", "--log-level", "notice"]
        var environment = ProcessInfo.processInfo.environment
        environment["TESTBED_ADMIN_KEY"] = adminKey
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        var log = Data()
        while port == 0 {
            let chunk = errors.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw ValidationError("testbed serve stopped: \(String(decoding: log, as: UTF8.self))") }
            log += chunk
            port = String(decoding: log, as: UTF8.self).firstMatch(of: /listening on http:\/\/[^:]+:(\d+)/).map { Int($0.1)! } ?? 0
        }
        errors.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
    }

    func createTenant() throws -> String {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-H", "Authorization: Bearer \(adminKey)", "-d", #"{"id":"bench"}"#, "http://127.0.0.1:\(port)/api/v1/tenants"]
        let output = Pipe()
        curl.standardOutput = output
        try curl.run()
        let reply = output.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        guard let object = try JSONSerialization.jsonObject(with: reply) as? [String: Any], let key = object["api_key"] as? String else {
            throw ValidationError("creating a tenant failed: \(String(decoding: reply, as: UTF8.self))")
        }
        return key
    }

    /// The server's resident set (`VmRSS`) in bytes.
    func residentBytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

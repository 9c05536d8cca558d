import ArgumentParser
import Foundation
import InferenceCore

/// The `server` suite: `testbed serve` started on loopback, loaded by `wrk` (Debian's package, whose
/// latency distribution is an HdrHistogram; one thread, on the same machine)
/// with keep-alive connections; requests per second with latency percentiles, batch scoring
/// against the model's own compute time, and the server's resident memory.
enum ServerBenchmark {
    static func run(_ context: BenchmarkContext, python: String?) throws -> [Result] {
        guard let executable = TestbedProcess.executable(context, suite: "server") else { return [] }
        guard let wrk = which("wrk") else {
            context.note("server suite skipped: wrk is not installed (bench/peers/setup.sh installs it)")
            return []
        }
        // The demonstration models and a 20-column gbdt for the batch rows; gRPC on a free port.
        let (models, sensorModel, sensorBatch) = try GRPCBenchmark.prepareModels()
        defer { try? FileManager.default.removeItem(at: models) }
        let server = try TestbedProcess(executable: executable, extraArguments: ["--grpc-port", "0"], modelsDirectory: models.path)
        defer { server.stop() }
        // Every Python peer serving the same two models, each loaded in turn with ours.
        var servingPeers: [ServingPeer] = []
        if let python {
            for kind in ServingPeer.Kind.allCases {
                do { servingPeers.append(try ServingPeer(kind, python: python)) } catch { context.note("server: no figures of \(kind): \(error)") }
            }
        }
        defer { for peer in servingPeers { peer.stop() } }
        let peers = servingPeers.map { (name: $0.name, port: $0.port, key: String?.none) }
        let idle = server.residentBytes()
        let key = try server.createTenant()
        let seconds = context.quick ? 1 : 5
        let glassRow = "[1.52101,13.64,4.49,1.1,71.78,0.06,8.75,0.0,0.0]"
        // Both servers asked for the class labels only ("predict"), what MLServer's scikit-learn runtime gives.
        let v2Single = #"{"inputs":[{"name":"input-0","shape":[1,9],"datatype":"FP64","data":\#(glassRow)}],"outputs":[{"name":"predict"}]}"#
        let v1Single = #"{"rows":[{"RI":1.52101,"Na":13.64,"Mg":4.49,"Al":1.1,"Si":71.78,"K":0.06,"Ca":8.75,"Ba":0.0,"Fe":0.0}]}"#
        let oilSingle = #"{"inputs":[{"name":"input-0","shape":[1,7],"datatype":"FP64","data":[9.7,5.2,31,52.7,0.4,0.4,0.1]}],"outputs":[{"name":"predict"}]}"#
        let batchRows = 1_000
        let batch = #"{"inputs":[{"name":"input-0","shape":[\#(batchRows),9],"datatype":"FP64","data":[\#(Array(repeating: glassRow, count: batchRows).joined(separator: ","))]}],"outputs":[{"name":"predict"}]}"#

        var results: [Result] = []
        let load = WrkLoad(wrk: wrk, port: server.port, key: key, seconds: seconds, repetitions: context.quick ? 1 : 3)
        let levels = context.quick ? [1, 64] : [1, 8, 64, 256]
        let routes: [(api: String, path: String, body: String, rows: Int, connections: [Int])] = [
            ("v2 infer", "/v2/models/glass-type/infer", v2Single, 1, levels),
            ("v1 predict", "/api/v1/models/glass-type/predict", v1Single, 1, context.quick ? [64] : levels),
            ("v2 infer", "/v2/models/glass-type/infer", batch, batchRows, context.quick ? [1] : [1, 8]),
        ]
        for route in routes {
            for connections in route.connections {
                var result = try load.measure("\(route.api) \(route.rows) row\(route.rows == 1 ? "" : "s"), random forest, \(connections) conn",
                                              path: route.path, body: route.body, connections: connections, peers: route.api == "v2 infer" ? peers : [])
                result.parameters = ["api": route.api, "rows": "\(route.rows)", "concurrency": "\(connections)"]
                if route.rows > 1 && connections == 1 {
                    result.extra["compute_ms"] = try computeMilliseconds(rows: batchRows, row: glassRow, repetitions: context.repetitions)
                    result.extra["compute_share"] = result.extra["compute_ms"]! / (result.timing.median * 1000)
                }
                print(result.line)
                results.append(result)
            }
        }
        var logistic = try load.measure("v2 infer 1 row, logistic, 64 conn", path: "/v2/models/oil-type/infer", body: oilSingle, connections: 64, peers: peers)
        logistic.parameters = ["api": "v2 infer (logistic)", "rows": "1", "concurrency": "64"]
        print(logistic.line)
        results.append(logistic)
        results.append(try ceiling(load, body: v2Single))
        results += try GRPCBenchmark.run(context, server: server, key: key, wrk: wrk, model: sensorModel, batch: sensorBatch)
        results.append(try monitoringCost(executable: executable, load: load, body: v2Single))
        results += try ServerWorkBenchmark.run(context, server: server, key: key, executable: executable)
        let loaded = server.residentBytes()
        var memory = Result(suite: "server", name: "resident memory, idle / after load", unit: "MB", work: idle / 1e6,
                            timing: Timing(seconds: [1]), extra: ["after_load_MB": loaded / 1e6])
        for peer in servingPeers { memory.extra["\(peer.name) after load MB"] = peer.residentBytes() / 1e6 }
        results.append(memory)
        print(results.last!.line)
        return results
    }

    /// The server's own ceiling: single-row V2 inference against the trivial `/v2/health/live`
    /// route at 64 connections, run after run in turn. The share (the goal: at least 0.8) is what
    /// is left for everything an inference request does beyond HTTP itself.
    private static func ceiling(_ load: WrkLoad, body: String) throws -> Result {
        var timings = (infer: Timing(), live: Timing())
        let once = WrkLoad(wrk: load.wrk, port: load.port, key: load.key, seconds: load.seconds, repetitions: 1)
        for _ in 0..<load.repetitions {
            timings.infer.seconds.append(try once.measure("v2 infer", path: "/v2/models/glass-type/infer", body: body, connections: 64).timing.median)
            timings.live.seconds.append(try once.measure("live", path: "/v2/health/live", body: "", connections: 64, method: "GET").timing.median)
        }
        let shares = zip(timings.live.seconds, timings.infer.seconds).map { $0 / $1 }
        var result = Result(suite: "server", name: "v2 infer 1 row, random forest, 64 conn, share of /v2/health/live", unit: "req/s", work: 1,
                            timing: timings.infer, extra: ["health_live_req_s": 1 / timings.live.median, "share_of_health_live": Timing.median(shares)])
        result.parameters = ["api": "v2 infer (ceiling)", "rows": "1", "concurrency": "64"]
        print(result.line)
        return result
    }

    /// What drift monitoring and the prediction log cost on the hot path: single-row V2
    /// inference against the same server started with `--no-monitoring`, in turn. Not a peer
    /// (it is ourselves); the figures are the row's extras, and the goal is on ÷ off >= 0.95.
    private static func monitoringCost(executable: URL, load: WrkLoad, body: String) throws -> Result {
        let unmonitored = try TestbedProcess(executable: executable, extraArguments: ["--no-monitoring"])
        defer { unmonitored.stop() }
        var result = try load.measure("v2 infer 1 row, random forest, 64 conn, monitoring on", path: "/v2/models/glass-type/infer", body: body,
                                      connections: 64, peers: [("monitoring off", unmonitored.port, try unmonitored.createTenant())])
        let off = result.peers.removeFirst()
        result.extra["monitoring_off_req_s"] = off.value
        result.extra["on_to_off"] = off.speedRatio
        result.parameters = ["api": "v2 infer (monitoring)", "rows": "1", "concurrency": "64"]
        print(result.line)
        return result
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

    static func which(_ command: String) -> String? {
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
    /// - Parameter peers: other servers on the same route, each with its tenant key when it checks keys.
    func measure(_ name: String, path: String, body: String, connections: Int, peers: [(name: String, port: Int, key: String?)] = [],
                 method: String = "POST") throws -> Result {
        let escaped = body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        let servers = [(name: "testbed", port: port, key: key as String?)] + peers
        let scripts = try servers.map { server in
            let script = FileManager.default.temporaryDirectory.appendingPathComponent("wrk-\(UUID()).lua")
            try """
                wrk.method = "\(method)"
                \(method == "GET" ? "" : "wrk.body = '\(escaped)'")
                wrk.headers["Content-Type"] = "application/json"
                wrk.headers["Authorization"] = "Bearer \(server.key ?? key)"
                """.write(to: script, atomically: true, encoding: .utf8)
            return script
        }
        defer { for script in scripts { try? FileManager.default.removeItem(at: script) } }
        for (index, server) in servers.enumerated() {
            _ = try run(script: scripts[index].path, port: server.port, path: path, connections: connections, seconds: 1)
            if index > 0 { Self.settle() }
        }
        // Ours and the peer servers in turn, run after run, under the same load generator.
        var timings = servers.map { _ in Timing() }
        var percentiles = servers.map { _ in [String: [Double]]() }
        for _ in 0..<repetitions {
            for (index, server) in servers.enumerated() {
                let summary = try run(script: scripts[index].path, port: server.port, path: path, connections: connections, seconds: seconds)
                timings[index].seconds.append(1 / summary.rate)
                for (label, value) in summary.latency { percentiles[index][label, default: []].append(value) }
                if index > 0 { Self.settle() }
            }
        }
        var result = Result(suite: "server", name: name, unit: "req/s", work: 1, timing: timings[0],
                            extra: percentiles[0].mapValues { Timing.median($0) })
        for (index, peer) in peers.enumerated() {
            result.addPeer(peer.name, timings[index + 1])
            for (label, values) in percentiles[index + 1] { result.extra["\(peer.name) \(label)"] = Timing.median(values) }
        }
        return result
    }

    /// A slow peer is still working through the requests wrk left in flight (64 forest
    /// predictions are a second of scikit-learn): it is given time to finish before the next run.
    private static func settle() { Thread.sleep(forTimeInterval: 2) }

    private func run(script: String, port: Int, path: String, connections: Int, seconds: Int) throws -> (rate: Double, latency: [String: Double]) {
        let text = try runToEnd(wrk, ["-t1", "-c\(connections)", "-d\(seconds)s", "--latency", "-s", script, "http://127.0.0.1:\(port)\(path)"])
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
    /// The `testbed` built beside this harness; `nil` (with a note) when it is not built.
    static func executable(_ context: BenchmarkContext, suite: String) -> URL? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("testbed")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            context.note("\(suite) suite skipped: \(executable.path) is not built (swift build -c release)")
            return nil
        }
        return executable
    }

    private let process = Process()
    private let directory: URL
    /// Whether the data directory is this process's own (removed when it stops) or shared by replicas.
    private let ownsDirectory: Bool
    let adminKey: String
    private(set) var port = 0
    /// The gRPC port when started with `--grpc-port`, from its "gRPC listening on" line.
    private(set) var grpcPort: Int?

    /// - Parameters:
    ///   - dataDirectory: a directory replicas share (`nil`: a new one of its own).
    ///   - adminKey: the admin key replicas share (`nil`: a new one).
    init(executable: URL, extraArguments: [String] = [], modelsDirectory: String = "models", dataDirectory: URL? = nil,
         adminKey: String? = nil) throws {
        directory = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("testbed-bench-\(UUID())")
        ownsDirectory = dataDirectory == nil
        self.adminKey = adminKey ?? UUID().uuidString
        process.executableURL = executable
        process.arguments = ["serve", "--port", "0", "--data-dir", directory.path, "--models-dir", modelsDirectory, "--log-level", "notice"] + extraArguments
        var environment = ProcessInfo.processInfo.environment
        environment["TESTBED_ADMIN_KEY"] = self.adminKey
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        var log = Data()
        let grpc = extraArguments.contains("--grpc-port")
        while port == 0 || (grpc && grpcPort == nil) {
            let chunk = errors.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw ValidationError("testbed serve stopped: \(String(decoding: log, as: UTF8.self))") }
            log += chunk
            let text = String(decoding: log, as: UTF8.self)
            port = text.firstMatch(of: /listening on http:\/\/[^:]+:(\d+)/).map { Int($0.1)! } ?? 0
            grpcPort = text.firstMatch(of: /gRPC listening on [^:]+:(\d+)/).map { Int($0.1)! }
        }
        errors.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
    }

    func createTenant() throws -> String {
        let reply = try runToEnd("/usr/bin/curl", ["-s", "-H", "Authorization: Bearer \(adminKey)", "-d", #"{"id":"bench"}"#, "http://127.0.0.1:\(port)/api/v1/tenants"])
        guard let object = try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any], let key = object["api_key"] as? String else {
            throw ValidationError("creating a tenant failed: \(reply)")
        }
        return key
    }

    /// The predictions the server has made with `model` (`testbed_predictions_total` in `/metrics`):
    /// a count of calls that were really answered, whatever the load generator counts.
    func predictions(model: String) throws -> Int {
        let text = try runToEnd("/usr/bin/curl", ["-s", "-H", "Authorization: Bearer \(adminKey)", "http://127.0.0.1:\(port)/metrics"])
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("testbed_predictions_total{model=\"\(model)\"}") }),
              let count = line.split(separator: " ").last.flatMap({ Double($0) }) else {
            throw ValidationError("the server's /metrics has no testbed_predictions_total for \(model)")
        }
        return Int(count)
    }

    /// The server's resident set (`VmRSS`) in bytes.
    func residentBytes() -> Double { Memory.resident(of: "\(process.processIdentifier)").current }

    /// CPU seconds the server has used (user and system, all threads), from `/proc/PID/stat`:
    /// what a request costs the server, whatever the load generator beside it costs.
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return .nan }
        // Fields after the command name, which may hold spaces: state is the 3rd field, utime the 14th, stime the 15th.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        if ownsDirectory { try? FileManager.default.removeItem(at: directory) }
    }
}

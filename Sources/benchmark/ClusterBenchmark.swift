import ArgumentParser
import Foundation

/// The `cluster` suite: `testbed serve` replicas on one PostgreSQL (scripts/postgres.sh) and one
/// storage root, behind nginx (deploy/nginx/testbed.conf), on this machine.
///
/// - single-row V2 inference at 64 connections straight to one replica, then through nginx to 1, 2
///   and 3 replicas, in turn (nginx's own cost is the first ratio; on a two-core machine more
///   replicas add processes, not cores, so the figures say what a replica costs, not what a
///   cluster of machines gains);
/// - job throughput: small training jobs through three replicas against one server alone;
/// - the pilot API's read routes at one connection on PostgreSQL against SQLite (goal: within 1.5×).
enum ClusterBenchmark {
    static func run(_ context: BenchmarkContext) throws -> [Result] {
        guard let executable = TestbedProcess.executable(context, suite: "cluster") else { return [] }
        guard let wrk = ServerBenchmark.which("wrk") else {
            context.note("cluster suite skipped: wrk is not installed (bench/peers/setup.sh installs it)")
            return []
        }
        guard let nginx = ServerBenchmark.which("nginx") ?? (FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") ? "/usr/sbin/nginx" : nil) else {
            context.note("cluster suite skipped: nginx is not installed (scripts/cluster-test.sh installs it)")
            return []
        }
        let started = try startPostgres()
        let (database, postgresDirectory) = (started[0], started[1])
        defer { _ = try? runToEnd("scripts/postgres.sh", ["stop", postgresDirectory]) }
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-cluster-bench-\(UUID())")
        defer { try? FileManager.default.removeItem(at: storage) }
        let admin = UUID().uuidString
        let arguments = ["--database", database, "--max-jobs-per-tenant", "100"]
        var replicas: [TestbedProcess] = []
        defer { for replica in replicas { replica.stop() } }
        for _ in 0..<3 { replicas.append(try TestbedProcess(executable: executable, extraArguments: arguments, dataDirectory: storage, adminKey: admin)) }
        let key = try replicas[0].createTenant()
        let seconds = context.quick ? 1 : 5, repetitions = context.quick ? 1 : 3
        let row = "[1.52101,13.64,4.49,1.1,71.78,0.06,8.75,0.0,0.0]"
        let single = #"{"inputs":[{"name":"input-0","shape":[1,9],"datatype":"FP64","data":\#(row)}],"outputs":[{"name":"predict"}]}"#
        let path = "/v2/models/glass-type/infer"

        var results: [Result] = []
        func record(_ result: Result, _ parameters: [String: String]) {
            var result = result
            result.suite = "cluster"
            result.parameters = parameters
            print(result.line)
            results.append(result)
        }
        let direct = try WrkLoad(wrk: wrk, port: replicas[0].port, key: key, seconds: seconds, repetitions: repetitions)
            .measure("v2 infer 1 row, straight to one replica, 64 conn", path: path, body: single, connections: 64)
        record(direct, ["route": "direct", "replicas": "1"])
        for count in 1...3 {
            let balancer = try Balancer(nginx: nginx, upstreams: replicas.prefix(count).map(\.port))
            defer { balancer.stop() }
            var through = try WrkLoad(wrk: wrk, port: balancer.port, key: key, seconds: seconds, repetitions: repetitions)
                .measure("v2 infer 1 row, nginx to \(count) replica\(count == 1 ? "" : "s"), 64 conn", path: path, body: single, connections: 64)
            through.extra["share_of_direct"] = through.value / direct.value
            record(through, ["route": "nginx", "replicas": "\(count)"])
        }

        // Jobs: the same small trainings through three replicas and through one server alone.
        let jobs = context.quick ? 6 : 12
        let clustered = try jobThroughput(ports: replicas.map(\.port), key: key, jobs: jobs)
        let alone = try TestbedProcess(executable: executable, extraArguments: ["--max-jobs-per-tenant", "100"])
        defer { alone.stop() }
        let aloneKey = try alone.createTenant()
        let single_ = try jobThroughput(ports: [alone.port], key: aloneKey, jobs: jobs)
        var throughput = Result(suite: "cluster", name: "\(jobs) ridge jobs on Servo, 3 replicas vs one server", unit: "jobs/s",
                                work: Double(jobs), timing: Timing(seconds: [clustered]))
        throughput.addPeer("one server (SQLite)", Timing(seconds: [single_]))
        record(throughput, ["jobs": "\(jobs)"])

        // Read routes at one connection: PostgreSQL (a replica) against SQLite (the server alone),
        // each holding the same dataset and jobs.
        for route in ["/api/v1/datasets", "/api/v1/jobs", "/api/v1/models"] {
            var onPostgres = try WrkLoad(wrk: wrk, port: replicas[0].port, key: key, seconds: seconds, repetitions: repetitions)
                .measure("GET \(route), 1 conn, PostgreSQL vs SQLite", path: route, body: "", connections: 1,
                         peers: [(name: "SQLite", port: alone.port, key: aloneKey)], method: "GET")
            // Time per request on PostgreSQL over SQLite's (the goal: at most 1.5).
            onPostgres.extra["postgres_time_over_sqlite"] = onPostgres.peers.first.map { 1 / $0.speedRatio } ?? .nan
            record(onPostgres, ["route": route])
        }
        return results
    }

    /// `scripts/postgres.sh start`'s two lines: the URL and the directory to stop. Read to the end of
    /// its output rather than waited for: Foundation's `Process` was seen here never to notice the
    /// exit of this script (whose server runs on as another user's daemon), left a zombie.
    private static func startPostgres() throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "scripts/postgres.sh")
        process.arguments = ["start"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let lines = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
        guard lines.count == 2, lines[0].hasPrefix("postgres://") else { throw ValidationError("scripts/postgres.sh start printed \(lines)") }
        return lines
    }

    /// Uploads Servo through `ports[0]`, submits `jobs` ridge trainings spread over `ports`, and
    /// returns the seconds until all have succeeded.
    private static func jobThroughput(ports: [Int], key: String, jobs: Int) throws -> Double {
        let upload = try curl(["-X", "POST", "--data-binary", "@datasets/Servo.csv", "-H", "Content-Type: text/csv"],
                              port: ports[0], path: "/api/v1/datasets?name=servo", key: key)
        guard let dataset = upload["id"] as? String else { throw ValidationError("the upload failed: \(upload)") }
        let began = Date()
        var ids: [String] = []
        for index in 0..<jobs {
            let body = #"{"dataset": "\#(dataset)", "target": "Class", "algorithms": "ridge", "model_name": "servo-\#(index)"}"#
            let job = try curl(["-X", "POST", "-H", "Content-Type: application/json", "-d", body], port: ports[index % ports.count], path: "/api/v1/jobs", key: key)
            guard let id = job["id"] as? String else { throw ValidationError("a job was refused: \(job)") }
            ids.append(id)
        }
        var pending = Set(ids)
        while !pending.isEmpty {
            guard Date().timeIntervalSince(began) < 600 else { throw ValidationError("\(pending.count) jobs still unfinished after 600 s") }
            for id in pending {
                let job = try curl([], port: ports[0], path: "/api/v1/jobs/\(id)", key: key)
                switch job["state"] as? String {
                case "succeeded": pending.remove(id)
                case "queued", "running": break
                default: throw ValidationError("job \(id) ended \(job["state"] ?? "?"): \(job["error"] ?? "")")
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return Date().timeIntervalSince(began)
    }

    private static func curl(_ arguments: [String], port: Int, path: String, key: String) throws -> [String: Any] {
        let text = try runToEnd("/usr/bin/curl", ["-s", "-H", "Authorization: Bearer \(key)"] + arguments + ["http://127.0.0.1:\(port)\(path)"])
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw ValidationError("\(path) answered: \(text.prefix(300))")
        }
        return object
    }
}

/// nginx in front of the given loopback ports, with the project's configuration.
private final class Balancer {
    let port: Int
    private let process = Process()
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-nginx-\(UUID())")

    init(nginx: String, upstreams: [Int]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try Self.freePort()
        let servers = upstreams.map { "        server 127.0.0.1:\($0) max_fails=1 fail_timeout=2s;" }.joined(separator: "\n")
        let configuration = try String(contentsOfFile: "deploy/nginx/testbed.conf", encoding: .utf8)
            .replacingOccurrences(of: "@DIR@", with: directory.path).replacingOccurrences(of: "@PORT@", with: "\(port)")
            .replacingOccurrences(of: "@UPSTREAMS@", with: servers)
        let file = directory.appendingPathComponent("nginx.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: nginx)
        process.arguments = ["-c", file.path, "-p", directory.path, "-g", "daemon off;"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if (try? runToEnd("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(port)/v2/health/live"])) != nil { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw ValidationError("nginx did not start on port \(port)")
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw ValidationError("no free port for nginx") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Profiling and training run in worker processes: a worker that runs out of memory, traps or
/// runs too long fails its upload or job with a clear message, and the server serves on.
///
/// Crashes and hangs are made with `TESTBED_WORKER_FAULT`, which only the worker subcommand
/// reads; running out of memory while profiling is real: a table larger than the limit.
@Suite("worker isolation", .serialized)
struct WorkerIsolationTests {
    /// A Glass row for the demonstration model `glass-type`: inference stays in the server.
    static var glassInput: [String: Any] { [
        "inputs": [["name": "x", "shape": [1, 9], "datatype": "FP64", "data": [1.52, 13.6, 4.5, 1.1, 71.8, 0.06, 8.75, 0, 0]]],
    ] }

    /// 10 numeric columns of 1.2 million rows: 24 MB of text, about 150 MiB once parsed.
    static let wideTable: Data = {
        let row = Array(repeating: "1", count: 10).joined(separator: ",") + "\n"
        return Data(((0..<10).map { "c\($0)" }.joined(separator: ",") + "\n" + String(repeating: row, count: 1_200_000)).utf8)
    }()

    /// The server still answers: ready, and a prediction from a model it holds.
    static func expectServing(_ server: ServerProcess, key: String) async throws {
        #expect(try await server.send(.GET, "/v2/health/ready", key: nil).status == 200)
        let inferred = try await server.send(.POST, "/v2/models/glass-type/infer", key: key, json: glassInput)
        #expect(inferred.status == 200, "\(inferred.text)")
    }

    static func files(in folder: String, of server: ServerProcess) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: "\(server.dataDirectory)/\(folder)")) ?? []
    }

    /// Uploads Servo and runs a job on it to its end; returns the last state seen.
    static func trainServo(_ server: ServerProcess, key: String, model: String) async throws -> [String: Any] {
        let dataset = try await server.upload("Servo.csv", name: "servo", key: key)
        let created = try await server.send(.POST, "/api/v1/jobs", key: key,
                                            json: ["dataset": dataset, "target": "Class", "algorithms": "ridge", "model_name": model])
        let job = try #require(created.object["id"] as? String, "\(created.text)")
        return try await server.watchJob(job, key: key) { !["queued", "running"].contains($0["state"] as? String) }.last!
    }

    @Test func anUploadTooLargeForTheWorkerMemoryLimitIsRefusedAndNothingIsKept() async throws {
        // A worker's data segment is about 40 MiB at start: 64 MiB profiles Satellite (1.3 MB)
        // but not the 24 MB table.
        let server = try ServerProcess(arguments: ["--worker-memory-limit", "64MiB"])
        let key = try await server.createTenant("big-tables")
        _ = try await server.upload("Satellite.csv", name: "satellite", key: key)

        let refused = try await server.send(.POST, "/api/v1/datasets?name=wide", key: key, body: Self.wideTable, contentType: "text/csv")
        #expect(refused.status == 413, "\(refused.text)")
        #expect(refused.object["code"] as? String == "out_of_memory")
        #expect(refused.error.contains("the profiling process ran out of memory at its 64 MiB limit"), "\(refused.error)")
        #expect(refused.error.contains("the upload was not stored") && refused.error.contains("--worker-memory-limit"))

        let datasets = try await server.send(.GET, "/api/v1/datasets", key: key).array
        #expect(datasets.map { $0["name"] as? String } == ["satellite"])
        #expect(Self.files(in: "datasets", of: server).count == 1)
        #expect(Self.files(in: "tmp", of: server).isEmpty, "\(Self.files(in: "tmp", of: server))")
        try await Self.expectServing(server, key: key)
    }

    @Test func anUploadThatCrashesItsProfilingIsRefusedWith422() async throws {
        let server = try ServerProcess(environment: ["TESTBED_WORKER_FAULT": "profile:trap"])
        let key = try await server.createTenant("crashing-file")
        let refused = try await server.send(.POST, "/api/v1/datasets?name=servo", key: key,
                                            body: try Data(contentsOf: ServerProcess.dataset("Servo.csv")), contentType: "text/csv")
        #expect(refused.status == 422, "\(refused.text)")
        #expect(refused.object["code"] as? String == "profiling_failed")
        #expect(refused.error.contains("the profiling process stopped unexpectedly (signal"), "\(refused.error)")
        #expect(refused.error.contains("a crash); the upload was not stored"), "\(refused.error)")
        #expect(try await server.send(.GET, "/api/v1/datasets", key: key).array.isEmpty)
        #expect(Self.files(in: "datasets", of: server).isEmpty && Self.files(in: "tmp", of: server).isEmpty)
        try await Self.expectServing(server, key: key)
    }

    @Test func aTrainingProcessThatTrapsFailsItsJobOnly() async throws {
        let server = try ServerProcess(environment: ["TESTBED_WORKER_FAULT": "train:trap"])
        let key = try await server.createTenant("crashing-job")
        let final = try await Self.trainServo(server, key: key, model: "never")
        #expect(final["state"] as? String == "failed", "\(final)")
        let error = final["error"] as? String ?? ""
        #expect(error.contains("the training process stopped unexpectedly (signal") && error.contains("a crash); no model was registered"), "\(error)")
        #expect(try await server.send(.GET, "/api/v1/models/never", key: key).status == 404)
        #expect(Self.files(in: "models", of: server).isEmpty && Self.files(in: "tmp", of: server).isEmpty)
        try await Self.expectServing(server, key: key)
    }

    @Test func aTrainingProcessOutOfMemoryFailsItsJobSayingSo() async throws {
        let server = try ServerProcess(arguments: ["--worker-memory-limit", "64MiB"],
                                       environment: ["TESTBED_WORKER_FAULT": "train:exhaust-memory"])
        let key = try await server.createTenant("hungry-job")
        let final = try await Self.trainServo(server, key: key, model: "never")
        #expect(final["state"] as? String == "failed", "\(final)")
        let error = final["error"] as? String ?? ""
        #expect(error.hasPrefix("the training process ran out of memory at its 64 MiB limit; no model was registered; try fewer rows or columns, or a larger --worker-memory-limit"), "\(error)")
        try await Self.expectServing(server, key: key)
    }

    @Test func aTrainingProcessOverItsTimeLimitIsStoppedAndItsJobFails() async throws {
        let server = try ServerProcess(arguments: ["--worker-time-limit", "2"], environment: ["TESTBED_WORKER_FAULT": "train:hang"])
        let key = try await server.createTenant("slow-job")
        let began = Date()
        let final = try await Self.trainServo(server, key: key, model: "never")
        #expect(final["state"] as? String == "failed", "\(final)")
        let error = final["error"] as? String ?? ""
        #expect(error.contains("the training process ran past its time limit of 2 s and was stopped; no model was registered"), "\(error)")
        #expect(Date().timeIntervalSince(began) < 30)
        #expect(Self.files(in: "tmp", of: server).isEmpty)
        try await Self.expectServing(server, key: key)
    }

    @Test func aJobStillTrainsReportsAndRegistersThroughItsWorker() async throws {
        let server = try ServerProcess(arguments: ["--worker-memory-limit", "1GiB"])
        let key = try await server.createTenant("plain-job")
        let final = try await Self.trainServo(server, key: key, model: "servo-ridge")
        #expect(final["state"] as? String == "succeeded", "\(final)")
        #expect(final.number("progress") == 1 && final["model"] as? String == "servo-ridge")
        let predicted = try await server.send(.POST, "/api/v1/models/servo-ridge/predict", key: key,
                                              json: ["rows": [["Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4]]])
        #expect(predicted.status == 200, "\(predicted.text)")
        #expect(Self.files(in: "tmp", of: server).isEmpty)
    }

    /// After an upload a spare profiling process waits for the next one. Killed while it waits,
    /// it does not fail that upload (and writing the request to its pipe does not end the server
    /// by SIGPIPE): a new worker does the work, and a new spare is started.
    @Test func aSpareWorkerKilledWhileItWaitsDoesNotFailTheNextUpload() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("spare-workers")
        _ = try await server.upload("Servo.csv", name: "first", key: key)
        let spare = try #require(await Self.spareProfiler(of: server), "no spare profiling process was started after an upload")
        kill(spare, SIGKILL)
        // Dead (a zombie until the server reaps it), so that the upload finds it dead while it waits,
        // not dying just after it took the request.
        for _ in 0..<100 where !Self.isZombie(spare) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(Self.isZombie(spare))

        _ = try await server.upload("Servo.csv", name: "second", key: key)
        let datasets = try await server.send(.GET, "/api/v1/datasets", key: key).array
        #expect(Set(datasets.compactMap { $0["name"] as? String }) == ["first", "second"])
        let next = await Self.spareProfiler(of: server)
        #expect(next != nil && next != spare, "no new spare after the killed one")
        try await Self.expectServing(server, key: key)
    }

    /// `--work-in-process`, the benchmark's peer, does the same work: the same profile, the same
    /// model's cross-validated scores, only without the process.
    @Test func workInProcessGivesTheSameProfileAndModel() async throws {
        var answers: [(profile: String, scores: String)] = []
        for arguments in [[], ["--work-in-process"]] {
            let server = try ServerProcess(arguments: arguments)
            let key = try await server.createTenant("same-work")
            let final = try await Self.trainServo(server, key: key, model: "servo-ridge")
            #expect(final["state"] as? String == "succeeded", "\(final)")
            let dataset = try await server.send(.GET, "/api/v1/datasets", key: key).array.first?["id"] as? String ?? ""
            let profile = try await server.send(.GET, "/api/v1/datasets/\(dataset)", key: key).object["profile"]
            let model = try await server.send(.GET, "/api/v1/models/servo-ridge", key: key).object
            func canonical(_ value: Any?) throws -> String {
                String(decoding: try JSONSerialization.data(withJSONObject: value ?? NSNull(), options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
            }
            answers.append((try canonical(profile), try canonical(["metrics": model["metrics"], "parameters": model["parameters"]])))
        }
        #expect(answers[0].profile.count > 100 && answers[0].profile == answers[1].profile)
        #expect(answers[0].scores.count > 10 && answers[0].scores == answers[1].scores, "\(answers.map(\.scores))")
    }

    static func isZombie(_ process: pid_t) -> Bool {
        let status = (try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8)) ?? ""
        return status.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    /// The live `testbed worker profile` child of the server, waiting up to five seconds for one.
    static func spareProfiler(of server: ServerProcess) async -> pid_t? {
        guard let parent = server.processIdentifier else { return nil }
        for _ in 0..<50 {
            let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            for child in processes.compactMap({ pid_t($0) }) {
                // After the command's closing parenthesis: the state (Z for a killed one not yet reaped), then the parent.
                let status = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
                let fields = status.split(separator: ")").last?.split(separator: " ") ?? []
                guard fields.count > 1, fields[1] == "\(parent)", fields[0] != "Z" else { continue }
                let arguments = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(child)/cmdline"))) ?? Data()
                if String(decoding: arguments, as: UTF8.self).contains("worker\0profile") { return child }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}

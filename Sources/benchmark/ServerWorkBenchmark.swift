import ArgumentParser
import Foundation
import InferenceCore

/// Uploads and training through `testbed serve`, where they run in a worker process, against
/// the same work done in this process, in turn: what the process boundary (and HTTP, the
/// digest, the flush) costs. The "peer" of each row is the in-process work, so a ratio near 1
/// says the isolation costs next to nothing.
enum ServerWorkBenchmark {
    static func run(_ context: BenchmarkContext, server: TestbedProcess, key: String) throws -> [Result] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-bench-upload.csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (rows, _) = try CSVBenchmark.writeIndustrialCSV(path: path, megabytes: 10)
        let megabytes = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1e6
        let base = "http://127.0.0.1:\(server.port)/api/v1"
        let authorization = "Authorization: Bearer \(key)"
        let repetitions = context.quick ? 2 : max(3, context.repetitions)

        func upload() throws -> String {
            let reply = try runToEnd("/usr/bin/curl", ["-s", "-H", authorization, "-H", "Content-Type: text/csv", "--data-binary", "@\(path)", "\(base)/datasets?name=bench-upload"])
            guard let id = (try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])?["id"] as? String else {
                throw ValidationError("upload failed: \(reply.prefix(300))")
            }
            return id
        }
        func delete(_ id: String) throws { _ = try runToEnd("/usr/bin/curl", ["-s", "-X", "DELETE", "-H", authorization, "\(base)/datasets/\(id)"]) }

        var results: [Result] = []
        let (uploads, inProcess) = try Timing.alternate(repetitions: repetitions, warmUp: true, ours: {
            try delete(try upload())
        }, peers: [{
            let started = Date()
            _ = DatasetProfile(try CSVReader().read(file: path))
            _ = try FileDigest.sha256(ofFile: path)
            return Date().timeIntervalSince(started)
        }])
        var uploaded = Result(suite: "server", name: "upload \(Int(megabytes.rounded())) MB (\(rows) rows): profiled in a worker", unit: "MB/s",
                            work: megabytes, timing: uploads, parameters: ["api": "upload"])
        uploaded.addPeer("read, profile and digest in process", inProcess[0])
        print(uploaded.line)
        results.append(uploaded)

        // Training: ridge on the upload, five folds, as a job (a worker) and in process.
        let dataset = try upload()
        defer { try? delete(dataset) }
        let spec = TrainingSpec(target: "sensor_0", algorithm: "ridge", folds: 5)
        let job = #"{"dataset":"\#(dataset)","target":"sensor_0","algorithms":"ridge","folds":5}"#
        let (jobs, local) = try Timing.alternate(repetitions: repetitions, warmUp: true, ours: {
            try trainThroughServer(base: base, authorization: authorization, job: job)
        }, peers: [{
            let started = Date()
            _ = try TrainedModel.train(try CSVReader(options: CSVReadOptions(textColumns: ["sensor_0"])).read(file: path), spec: spec)
            return Date().timeIntervalSince(started)
        }])
        var training = Result(suite: "server", name: "training job, ridge on the upload, 5 folds: in a worker", unit: "s",
                              work: 1, timing: jobs, isDuration: true, parameters: ["api": "job"])
        training.addPeer("read and train in process", local[0])
        print(training.line)
        results.append(training)
        return results
    }

    /// Creates the job and waits for it to succeed, polling every 20 ms.
    private static func trainThroughServer(base: String, authorization: String, job: String) throws {
        let created = try runToEnd("/usr/bin/curl", ["-s", "-H", authorization, "-d", job, "\(base)/jobs"])
        guard let id = (try? JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: Any])?["id"] as? String else {
            throw ValidationError("creating a job failed: \(created.prefix(300))")
        }
        while true {
            let seen = try runToEnd("/usr/bin/curl", ["-s", "-H", authorization, "\(base)/jobs/\(id)"])
            let state = (try? JSONSerialization.jsonObject(with: Data(seen.utf8)) as? [String: Any])?["state"] as? String
            if state == "succeeded" { break }
            guard state == "queued" || state == "running" else { throw ValidationError("the job ended \(state ?? "?"): \(seen.prefix(300))") }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}

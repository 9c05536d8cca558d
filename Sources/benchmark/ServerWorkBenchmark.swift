import ArgumentParser
import Foundation
import InferenceCore

/// Uploads and training through `testbed serve`, where they run in a worker process, against
/// the same requests to a second server that does the work in its own threads
/// (`--work-in-process`, the server as it was before workers) and against the bare work in this
/// process, in turn. The first ratio is what the isolation costs; the second adds HTTP, the
/// streamed upload and the job queue.
enum ServerWorkBenchmark {
    static func run(_ context: BenchmarkContext, server: TestbedProcess, key: String, executable: URL) throws -> [Result] {
        let inProcess = try TestbedProcess(executable: executable, extraArguments: ["--work-in-process"])
        defer { inProcess.stop() }
        let servers = [(server, key), (inProcess, try inProcess.createTenant())].map { ServerClient(port: $0.port, key: $1) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-bench-upload.csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (rows, _) = try CSVBenchmark.writeIndustrialCSV(path: path, megabytes: 10)
        let megabytes = Double((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) / 1e6
        let repetitions = context.quick ? 3 : max(5, context.repetitions)

        var results: [Result] = []
        let (uploads, uploadPeers) = try Timing.alternate(repetitions: repetitions, warmUp: true, ours: {
            try servers[0].delete(try servers[0].upload(path))
        }, peers: [{
            try Timing.seconds { try servers[1].delete(try servers[1].upload(path)) }
        }, {
            try Timing.seconds {
                _ = DatasetProfile(try CSVReader().read(file: path))
                _ = try FileDigest.sha256(ofFile: path)
            }
        }])
        var uploaded = Result(suite: "server", name: "upload \(Int(megabytes.rounded())) MB (\(rows) rows): profiled in a worker", unit: "MB/s",
                            work: megabytes, timing: uploads, parameters: ["api": "upload"])
        uploaded.addPeer("the same server, profiling in its own threads", uploadPeers[0])
        uploaded.addPeer("read, profile and digest in this process", uploadPeers[1])
        print(uploaded.line)
        results.append(uploaded)

        // Training: ridge on the upload, five folds, as a job (a worker), as a job in the
        // server's own threads, and in this process.
        let datasets = try servers.map { try $0.upload(path) }
        defer { for (server, dataset) in zip(servers, datasets) { try? server.delete(dataset) } }
        let spec = TrainingSpec(target: "sensor_0", algorithm: .named("ridge"), folds: 5)
        let (jobs, jobPeers) = try Timing.alternate(repetitions: repetitions, warmUp: true, ours: {
            try servers[0].train(dataset: datasets[0])
        }, peers: [{
            try Timing.seconds { try servers[1].train(dataset: datasets[1]) }
        }, {
            try Timing.seconds { _ = try TrainedModel.train(try CSVReader(options: CSVReadOptions(textColumns: ["sensor_0"])).read(file: path), spec: spec) }
        }])
        var training = Result(suite: "server", name: "training job, ridge on the upload, 5 folds: in a worker", unit: "s",
                              work: 1, timing: jobs, isDuration: true, parameters: ["api": "job"])
        training.addPeer("the same server, training in its own threads", jobPeers[0])
        training.addPeer("read and train in this process", jobPeers[1])
        print(training.line)
        results.append(training)
        return results
    }
}

/// The pilot API of one benchmarked server, through curl.
private struct ServerClient {
    let port: Int
    let key: String

    private var base: String { "http://127.0.0.1:\(port)/api/v1" }
    private var authorization: String { "Authorization: Bearer \(key)" }

    /// Uploads the file and returns the dataset's id.
    func upload(_ path: String) throws -> String {
        let reply = try runToEnd("/usr/bin/curl", ["-s", "-H", authorization, "-H", "Content-Type: text/csv", "--data-binary", "@\(path)", "\(base)/datasets?name=bench-upload"])
        guard let id = (try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])?["id"] as? String else {
            throw ValidationError("upload failed: \(reply.prefix(300))")
        }
        return id
    }

    func delete(_ dataset: String) throws { _ = try runToEnd("/usr/bin/curl", ["-s", "-X", "DELETE", "-H", authorization, "\(base)/datasets/\(dataset)"]) }

    /// Trains ridge on `sensor_0` with five folds as a job and waits for it to succeed, polling every 20 ms.
    func train(dataset: String) throws {
        let job = #"{"dataset":"\#(dataset)","target":"sensor_0","algorithms":"ridge","folds":5}"#
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

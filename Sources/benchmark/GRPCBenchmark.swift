import Foundation
import InferenceCore

/// The server suite's gRPC rows: single-row `ModelInfer` at 64 concurrent streams against HTTP's
/// figure for the same model (wrk, 64 connections, the same server, in turn), and a 10,000-row ×
/// 20-column batch through gRPC (raw and typed contents) against the
/// model's own compute time for the batch. Goals (issue 18): gRPC ÷ HTTP ≥ 1 and batch ÷ compute ≤ 1.5.
enum GRPCBenchmark {
    /// The served name of the 20-column model, a gbdt on the synthetic sensor table.
    static let batchModel = "sensor-gbdt"
    static let batchRows = 10_000

    /// A models directory for the benchmarked server: the demonstration models and the batch model,
    /// which is returned too, with the batch of rows it scores.
    static func prepareModels() throws -> (directory: URL, model: TrainedModel, batch: Matrix) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-bench-models-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: "models") where file.hasSuffix(".json") {
            try FileManager.default.copyItem(atPath: "models/\(file)", toPath: directory.appendingPathComponent(file).path)
        }
        let tables = ModelSuites.Tables(rows: 5_000, testRows: batchRows)
        var training = table(tables.x)
        training.columns.append(Column(name: "y", values: .numeric(tables.regression)))
        let model = try TrainedModel.train(training, spec: TrainingSpec(target: "y", algorithm: .named("gbdt"), seed: 1, folds: 0))
        try model.save(to: directory.appendingPathComponent("\(batchModel).json").path)
        return (directory, model, tables.testX)
    }

    /// The sensor columns of `matrix` as the model's input table (`sensor_0`, `sensor_1`, …).
    static func table(_ matrix: Matrix) -> DataTable {
        DataTable(columns: (0..<matrix.columns).map { index in
            Column(name: "sensor_\(index)", values: .numeric((0..<matrix.rows).map { matrix[$0, index] }))
        })
    }

    static func run(_ context: BenchmarkContext, server: TestbedProcess, key: String, wrk: String, model: TrainedModel, batch: Matrix) throws -> [Result] {
        guard let grpcPort = server.grpcPort else {
            context.note("server: no gRPC figures: the benchmarked server has no gRPC listener")
            return []
        }
        let seconds = context.quick ? 1.0 : 5.0
        let rounds = context.quick ? 1 : 3
        let grpc = GRPCLoad(port: grpcPort, key: key)
        let http = WrkLoad(wrk: wrk, port: server.port, key: key, seconds: Int(seconds), repetitions: 1)
        var results: [Result] = []

        // Single rows at 64 concurrent calls: gRPC streams over 4 connections, HTTP/1.1 over 64.
        let glassRow: [Double] = [1.52101, 13.64, 4.49, 1.1, 71.78, 0.06, 8.75, 0.0, 0.0]
        var single = Inference_ModelInferRequest()
        single.modelName = "glass-type"
        single.inputs = [.with { $0.name = "input-0"; $0.datatype = "FP64"; $0.shape = [1, 9]; $0.contents.fp64Contents = glassRow }]
        single.outputs = [.with { $0.name = "predict" }]
        let v2Single = #"{"inputs":[{"name":"input-0","shape":[1,9],"datatype":"FP64","data":[\#(glassRow.map { "\($0)" }.joined(separator: ","))]}],"outputs":[{"name":"predict"}]}"#
        _ = try grpc.run(single, streams: 64, seconds: 1)
        var (grpcTiming, httpTiming) = (Timing(), Timing())
        var percentiles: [String: [Double]] = [:]
        // The server's CPU per call on each side: the load generators (grpc-swift's client here,
        // wrk there) share the two cores with the server and cost differently.
        var (grpcCPU, httpCPU) = ([Double](), [Double]())
        for _ in 0..<rounds {
            var before = server.cpuSeconds()
            let measured = try grpc.run(single, streams: 64, seconds: seconds)
            grpcCPU.append((server.cpuSeconds() - before) / (measured.rate * seconds) * 1e6)
            grpcTiming.seconds.append(1 / measured.rate)
            for (label, value) in measured.latency { percentiles[label, default: []].append(value) }
            before = server.cpuSeconds()
            let httpSeconds = try http.measure("http", path: "/v2/models/glass-type/infer", body: v2Single, connections: 64).timing.median
            // measure() warms up for a second first: its requests count too, at about the same rate.
            httpCPU.append((server.cpuSeconds() - before) / ((seconds + 1) / httpSeconds) * 1e6)
            httpTiming.seconds.append(httpSeconds)
        }
        var singleResult = Result(suite: "server", name: "grpc infer 1 row, random forest, 64 streams", unit: "req/s", work: 1, timing: grpcTiming,
                                  parameters: ["api": "grpc infer", "rows": "1", "concurrency": "64"], extra: percentiles.mapValues { Timing.median($0) })
        singleResult.extra["http_req_s"] = 1 / httpTiming.median
        singleResult.extra["grpc_to_http"] = Timing.median(zip(httpTiming.seconds, grpcTiming.seconds).map { $0 / $1 })
        singleResult.extra["server_cpu_us_per_call"] = Timing.median(grpcCPU)
        singleResult.extra["http_server_cpu_us_per_request"] = Timing.median(httpCPU)
        print(singleResult.line)
        results.append(singleResult)

        // The batch: the model's own time for it, in this process, and the same rows through each path.
        let table = Self.table(batch)
        let computeMilliseconds = try Timing.measure(repetitions: context.repetitions) { _ = try model.predict(table) }.median * 1000
        for form in ["raw", "typed"] {
            var request = Inference_ModelInferRequest()
            request.modelName = batchModel
            request.inputs = [.with { $0.name = "input-0"; $0.datatype = "FP64"; $0.shape = [Int64(batch.rows), Int64(batch.columns)] }]
            if form == "raw" {
                request.rawInputContents = [batch.storage.withUnsafeBytes { Data($0) }]
            } else {
                request.inputs[0].contents.fp64Contents = batch.storage
            }
            _ = try grpc.run(request, streams: 1, seconds: 1)
            var timing = Timing()
            var latency: [String: [Double]] = [:]
            for _ in 0..<rounds {
                let measured = try grpc.run(request, streams: 1, seconds: seconds)
                timing.seconds.append(1 / measured.rate)
                for (label, value) in measured.latency { latency[label, default: []].append(value) }
            }
            var result = Result(suite: "server", name: "grpc infer \(batch.rows) rows × \(batch.columns), gbdt, \(form), 1 stream", unit: "req/s", work: 1,
                                timing: timing, parameters: ["api": "grpc infer (\(form))", "rows": "\(batch.rows)", "concurrency": "1"],
                                extra: latency.mapValues { Timing.median($0) })
            addCompute(&result, milliseconds: computeMilliseconds)
            print(result.line)
            results.append(result)
        }
        // The same batch over HTTP, as JSON and as binary tensors, is the transport suite's: timed
        // there request by request in turn with the model (wrk's own cost with a 4 MB body swamps it).
        return results
    }

    /// The model's own milliseconds for the batch, its share of the request, and the request's
    /// time as a multiple of it (the goal: at most 1.5).
    private static func addCompute(_ result: inout Result, milliseconds: Double) {
        let request = result.timing.median * 1000
        result.extra["compute_ms"] = milliseconds
        result.extra["compute_share"] = milliseconds / request
        result.extra["to_compute"] = request / milliseconds
    }
}

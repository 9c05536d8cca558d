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
        let seconds = context.quick ? 1 : 5
        let rounds = context.quick ? 1 : 3
        let grpc = GRPCLoad(port: grpcPort, key: key)
        let glassRow: [Double] = [1.52101, 13.64, 4.49, 1.1, 71.78, 0.06, 8.75, 0.0, 0.0]
        var single = Inference_ModelInferRequest()
        single.modelName = "glass-type"
        single.inputs = [.with { $0.name = "input-0"; $0.datatype = "FP64"; $0.shape = [1, 9]; $0.contents.fp64Contents = glassRow }]
        single.outputs = [.with { $0.name = "predict" }]
        var results = [try singleRow(context, server: server, key: key, wrk: wrk, grpc: grpc, request: single, row: glassRow, seconds: seconds, rounds: rounds)]
        print(results[0].line)

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
                let measured = try grpc.run(request, streams: 1, seconds: Double(seconds))
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

    /// How h2load spreads the 64 concurrent calls: 4 connections of 16 streams, as a gRPC client
    /// multiplexes many calls over few connections (grpc-swift's and tritonclient's keep one per
    /// channel); docs/grpc.md, "Speed", has the figures for other layouts.
    static let layout = (connections: 4, streams: 16)

    /// Single-row `ModelInfer` at 64 concurrent calls from h2load, and V2 HTTP inference of the
    /// same row from wrk at 64 connections, in turn round after round against the same server:
    /// the rate with its spread over the rounds, the ratio gRPC ÷ HTTP (median of the rounds'
    /// ratios), and the server's CPU per call on each side (from `/proc`, over the calls the
    /// server counted, warm-up included), which the load generators' own cost does not move.
    /// grpc-swift's client in this process (``GRPCLoad``) is measured too, as an extra: it takes
    /// a core of the two from the server, which h2load and wrk do not.
    private static func singleRow(_ context: BenchmarkContext, server: TestbedProcess, key: String, wrk: String, grpc: GRPCLoad,
                                  request: Inference_ModelInferRequest, row: [Double], seconds: Int, rounds: Int) throws -> Result {
        let http = WrkLoad(wrk: wrk, port: server.port, key: key, seconds: seconds, repetitions: 1)
        let v2Single = #"{"inputs":[{"name":"input-0","shape":[1,9],"datatype":"FP64","data":[\#(row.map { "\($0)" }.joined(separator: ","))]}],"outputs":[{"name":"predict"}]}"#
        let h2load = ServerBenchmark.which("h2load").map { GRPCH2Load(h2load: $0, port: server.grpcPort!, key: key) }
        if h2load == nil { context.note("server: h2load is not installed (bench/peers/setup.sh installs nghttp2-client): gRPC's single-row figure is from grpc-swift's client in this process") }
        // The server's CPU seconds and predictions over one measurement: CPU µs per call.
        func cpuPerCall(_ body: () throws -> Void) throws -> Double {
            let (cpu, calls) = (server.cpuSeconds(), try server.predictions(model: "glass-type"))
            try body()
            return (server.cpuSeconds() - cpu) / Double(try server.predictions(model: "glass-type") - calls) * 1e6
        }
        // A real client's answer to the same message first: h2load only sees HTTP statuses.
        _ = try grpc.run(request, streams: 64, seconds: 1)
        _ = try h2load?.run(request, connections: layout.connections, streams: layout.streams, seconds: 1)
        var (grpcTiming, httpTiming, clientTiming) = (Timing(), Timing(), Timing())
        var (grpcCPU, httpCPU, clientCPU) = ([Double](), [Double](), [Double]())
        var percentiles: [String: [Double]] = [:]
        for _ in 0..<rounds {
            if let h2load {
                var run: GRPCH2Load.Run?
                let calls = try server.predictions(model: "glass-type")
                grpcCPU.append(try cpuPerCall { run = try h2load.run(request, connections: layout.connections, streams: layout.streams, seconds: seconds) })
                let counted = try server.predictions(model: "glass-type") - calls
                guard counted >= run!.succeeded else {
                    throw GRPCLoadError("h2load counted \(run!.succeeded) answered calls, the server made \(counted) predictions: some calls were refused")
                }
                grpcTiming.seconds.append(1 / run!.rate)
                for (label, value) in run!.latency { percentiles[label, default: []].append(value) }
            }
            var clientRate = 0.0
            clientCPU.append(try cpuPerCall {
                let measured = try grpc.run(request, streams: 64, seconds: Double(seconds))
                clientRate = measured.rate
                if h2load == nil { for (label, value) in measured.latency { percentiles[label, default: []].append(value) } }
            })
            clientTiming.seconds.append(1 / clientRate)
            var httpSeconds = 0.0
            httpCPU.append(try cpuPerCall { httpSeconds = try http.measure("http", path: "/v2/models/glass-type/infer", body: v2Single, connections: 64).timing.median })
            httpTiming.seconds.append(httpSeconds)
        }
        if h2load == nil { (grpcTiming, grpcCPU) = (clientTiming, clientCPU) }
        let generator = h2load == nil ? "grpc-swift client, \(grpc.connections) conn × 16" : "h2load, \(layout.connections) conn × \(layout.streams)"
        context.note("server: gRPC single-row calls from \(generator); HTTP from wrk, 64 conn")
        var result = Result(suite: "server", name: "grpc infer 1 row, random forest, 64 streams", unit: "req/s", work: 1, timing: grpcTiming,
                            parameters: ["api": "grpc infer", "rows": "1", "concurrency": "64", "load generator": h2load?.version() ?? "grpc-swift client",
                                         "connections": "\(h2load == nil ? grpc.connections : layout.connections)"],
                            extra: percentiles.mapValues { Timing.median($0) })
        result.extra["http_req_s"] = 1 / httpTiming.median
        result.extra["http_req_s_low"] = 1 / httpTiming.maximum
        result.extra["http_req_s_high"] = 1 / httpTiming.minimum
        result.extra["grpc_to_http"] = Timing.median(zip(httpTiming.seconds, grpcTiming.seconds).map { $0 / $1 })
        result.extra["server_cpu_us_per_call"] = Timing.median(grpcCPU)
        result.extra["http_server_cpu_us_per_request"] = Timing.median(httpCPU)
        if h2load != nil {
            result.extra["grpc_swift_client_req_s"] = 1 / clientTiming.median
            result.extra["grpc_swift_client_server_cpu_us_per_call"] = Timing.median(clientCPU)
        }
        return result
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

import Foundation

/// The Markdown report: the machine, how to read the figures, a table per suite, plots beside the
/// file, and a plain list of where the testbed is behind a peer or far from the machine's ceiling.
struct ReportWriter {
    let report: Report

    func write(to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let stem = url.deletingPathExtension().lastPathComponent
        var plots: [String: String] = [:]
        for (suite, plot) in self.plots() {
            let name = "\(stem)-\(suite).svg"
            try plot.render().write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
            plots[suite] = name
        }
        try markdown(plots: plots).write(to: url, atomically: true, encoding: .utf8)
    }

    private var results: [Result] { report.results }
    private func suite(_ name: String) -> [Result] { results.filter { $0.suite == name } }

    func markdown(plots: [String: String]) -> String {
        let machine = report.machine
        var lines = [
            "# Benchmark report (\(report.mode) run)", "",
            "- Machine: \(machine.cpu), \(machine.cores) cores, \(String(format: "%.1f", machine.memoryGiB)) GiB",
            "- OpenBLAS \(machine.openBLAS), threads \(machine.blasThreads); \(machine.swift), \(machine.build) build",
            "- Peers: " + (report.peers.isEmpty ? "none measured" : report.peers.keys.sorted().map { "\($0) \(report.peers[$0]!)" }.joined(separator: ", ")),
            "- The whole run took \(Int(report.seconds)) s.", "",
        ]
        lines += report.notes.flatMap { ["> \($0)", ""] }
        lines += [
            "Every figure is the median of several timed repetitions after a warm-up, with the range (slowest–fastest) beside it.",
            "Where a peer did the same work, ours and the peer's ran in turn, round after round, on the same data in the same run;",
            "**speed ours ÷ peer** is the median over the rounds of (peer time / our time): above 1 the testbed is faster.",
            "The models on both sides run on one thread (OpenBLAS, OpenMP, LightGBM and ONNX Runtime set to one),",
            "and both are given the same numeric matrix: no preprocessing is timed on either side.", "",
        ]
        lines += behind()
        if !suite("blas").isEmpty {
            lines += ["## blas: the machine's ceiling", "", "| routine | GFLOP/s | range |", "|---|---:|---|"]
            lines += suite("blas").map { "| \($0.name) | \(formatFigure($0.value)) | \(range($0)) |" }
            lines.append("")
        }
        if !suite("csv").isEmpty {
            lines += ["## csv: ingest of an industrial export", "",
                      "A generated export of a production line: timestamp, machine, shift, supplier and batch codes, 16 sensor readings, one cell in 200 empty.", "",
                      "Ours on one thread and on every core (blocks of lines parsed on each; the same table bit for bit); the peers in turn with ours on the same file: pandas.read_csv (with pyarrow installed, as pandas 3 uses it for text columns) and pyarrow.csv.read_csv, on one core pinned to one CPU (pyarrow with `use_threads=False`), on every core at their defaults.", "",
                      "| file | MB/s | range | M rows/s | peak memory | peak ÷ parsed table | peers MB/s (speed ours ÷ peer) |", "|---|---:|---|---:|---:|---:|---|"]
            let (ingest, profile) = (suite("csv").filter { $0.name.hasPrefix("ingest") }, suite("csv").filter { $0.name.hasPrefix("profile") })
            lines += ingest.map { result in
                let peers = result.peers.map { "\($0.name): \(formatFigure($0.value)) (\(ratio($0.speedRatio)))" }.joined(separator: "; ")
                return "| \(result.name) | \(formatFigure(result.value)) | \(range(result)) | \(formatFigure(result.extra["M rows/s"] ?? .nan)) | \(formatFigure(result.extra["peak memory MB"] ?? .nan)) MB | \(formatFigure(result.extra["peak memory / parsed table"] ?? .nan)) | \(peers.isEmpty ? "–" : peers) |"
            }
            lines.append("")
            if !profile.isEmpty {
                lines += ["The profile an upload waits for (types, statistics, medians, distinct counts, histograms, warnings), of the table already read, in MB of the file per second; the upload's rate counts the read too.", "",
                          "| file | MB/s | range | peak ÷ parsed table | upload (read + profile) MB/s |", "|---|---:|---|---:|---:|"]
                lines += profile.map { result in
                    "| \(result.name) | \(formatFigure(result.value)) | \(range(result)) | \(formatFigure(result.extra["peak memory / parsed table"] ?? .nan)) | \(formatFigure(result.extra["upload (read + profile) MB/s"] ?? .nan)) |"
                }
                lines.append("")
            }
        }
        if !suite("train").isEmpty {
            lines += ["## train: time to fit", "",
                      "A synthetic sensor table of 20 numeric columns; regression (R² on 5,000 held-out rows) except logistic (log loss on them; scikit-learn's and ours stop at its default tolerance, 1e-4 on the gradient). gbdt: 100 rounds of 31 leaves, no early stopping; mlp: 100 hidden units, 10 epochs; random forest: 100 trees.", ""]
            let oneThread = suite("train").filter { $0.parameters["threads"] == nil && $0.parameters["memory"] == nil }
            lines += comparisonTable(oneThread, first: "rows", unit: "seconds")
            if let plot = plots["train"] { lines += ["", "![Training time against rows](\(plot))"] }
            lines += growth(oneThread)
            let measured = suite("train").filter { $0.extra["peak memory / table"] != nil }
            if !measured.isEmpty {
                lines += ["", "### Peak memory of a fit", "",
                          "The resident memory a fit adds at its peak (the process's high-water mark over that row's fits, less what it held before), against the training table's own size (rows × 20 doubles); the goal is at most 2×. The random forest and the MLP are fitted to 100,000 rows only (their million-row fits would take minutes); k-NN's fit, a copy of its points, is measured for its memory alone.", "",
                          "| family | rows | table MB | peak MB | peak ÷ table |", "|---|---:|---:|---:|---:|"]
                lines += measured.map { result in
                    "| \(result.parameters["algorithm"] ?? "") | \(result.parameters["rows"] ?? "") | \(formatFigure(result.extra["table MB"] ?? .nan)) | \(formatFigure(result.extra["peak memory MB"] ?? .nan)) | \(formatFigure(result.extra["peak memory / table"] ?? .nan)) |"
                }
            }
            let allCores = suite("train").filter { $0.parameters["threads"] != nil }
            if !allCores.isEmpty {
                lines += ["", "### On every core", "",
                          "Ours with `--threads` at the machine's cores (a forest's trees, a cross-validation's folds; the same results as one thread), the peers with `n_jobs=-1` (LightGBM: one thread per fold, the folds on joblib's workers), in turn with ours on one thread.", "",
                          "| work | rows | threads | testbed seconds | range | speed-up from 1 thread | peer seconds | speed ours ÷ peer |", "|---|---:|---:|---:|---|---:|---:|---:|"]
                lines += allCores.map { result in
                    let peer = result.peers.first
                    return "| \(result.parameters["algorithm"] ?? "") \(result.parameters["work"] ?? "") | \(result.parameters["rows"] ?? "") | \(result.parameters["threads"] ?? "") | \(formatFigure(result.value)) | \(range(result)) | \(String(format: "%.2f×", result.extra["speedup_from_1_thread"] ?? .nan)) | \(peer.map { "\(formatFigure($0.value)) (\($0.name))" } ?? "–") | \(peer.map { ratio($0.speedRatio) } ?? "–") |"
                }
            }
            lines.append("")
        }
        if !suite("infer").isEmpty {
            lines += ["## infer: rows per second and single-row latency", "",
                      "Models fitted on \(report.mode == "quick" ? "2,000" : "10,000") rows, predicting batches of test rows in process, each call the next rows of a 65,536-row test set on both sides (ONNX Runtime: the scikit-learn model converted with skl2onnx, float32 input; gbdt's peer is LightGBM, which skl2onnx does not convert, so it has no ONNX Runtime figures). Quality on the first 5,000 test rows.", ""]
            lines += comparisonTable(suite("infer").filter { $0.parameters["batch"] != nil }, first: "batch", unit: "rows/s")
            lines += ["", "Single-row latency (one call after another):", "", "| algorithm | testbed p50 | testbed p99 | peers p50 (speed ours ÷ peer) |", "|---|---:|---:|---|"]
            lines += suite("infer").filter { $0.parameters["latency"] != nil }.map { result in
                "| \(result.parameters["algorithm"]!) | \(formatFigure(result.extra["p50 µs"]!)) µs | \(formatFigure(result.extra["p99 µs"]!)) µs | "
                    + result.peers.map { "\($0.name): \(formatFigure($0.value)) µs (\(ratio($0.speedRatio)))" }.joined(separator: "; ") + " |"
            }
            let linear = suite("infer").filter { $0.extra["GFLOP/s"] != nil }
            if !linear.isEmpty {
                lines += ["", "The linear models at 65,536 rows against the machine: "
                          + linear.map { "\($0.parameters["algorithm"]!) \(formatFigure($0.extra["GFLOP/s"]!)) GFLOP/s, \(formatFigure($0.extra["GB/s read"]!)) GB/s read"
                              + ($0.extra["share of dgemm ceiling"].map { String(format: " (%.1f%% of single-thread DGEMM: a matrix-vector product is bound by memory, not arithmetic)", $0 * 100) } ?? "") }.joined(separator: "; ") + "."]
            }
            if let plot = plots["infer"] { lines += ["", "![Rows per second against batch size](\(plot))"] }
            lines.append("")
        }
        if !suite("server").isEmpty {
            lines += ["## server: end to end over HTTP", "",
                      "`testbed serve` on loopback with the demonstration models, loaded by wrk (one thread, keep-alive connections, on the same two cores; its latency figures come from an HdrHistogram). The glass-type random forest (100 trees, 9 inputs).", "",
                      "Python peers serve scikit-learn equivalents (bench/peers/peer_models.py: a random forest of 100 trees on the same Glass.csv; StandardScaler + LogisticRegression on oils.csv for the logistic row) and get the same V2 requests at the same load, run in turn with ours; all are asked for the class labels only (`outputs: predict`). Their settings: MLServer's scikit-learn runtime at its defaults (`parallel_workers` 1: one inference worker process beside the HTTP process) and with `parallel_workers: 0` (inference in the HTTP process, the faster setting on a small machine); a FastAPI app under uvicorn (one process, uvloop and httptools, orjson, no access log; bench/peers/fastapi_peer.py).", ""]
            let servingRows = suite("server").filter { $0.parameters["concurrency"] != nil }
            if let worst = servingRows.flatMap({ result in result.peers.map { (result, $0) } }).min(by: { $0.1.speedRatio < $1.1.speedRatio }) {
                lines += ["The least favourable comparison: \(worst.0.name) against \(worst.1.name), \(formatFigure(worst.0.value)) req/s against \(formatFigure(worst.1.value)): ours ÷ peer \(ratio(worst.1.speedRatio)).", ""]
            }
            lines += ["| route | rows | connections | req/s | range | p50 ms | p90 ms | p99 ms | max ms | peers: req/s (speed ours ÷ peer; p50 / p99 ms) |",
                      "|---|---:|---:|---:|---|---:|---:|---:|---:|---|"]
            for result in servingRows {
                let p = result.parameters, e = result.extra
                let peers = result.peers.map { peer in
                    "\(peer.name): \(formatFigure(peer.value)) (\(ratio(peer.speedRatio)); \(formatFigure(e["\(peer.name) p50_ms"] ?? .nan)) / \(formatFigure(e["\(peer.name) p99_ms"] ?? .nan)))"
                }
                lines.append("| \(p["api"]!) | \(p["rows"]!) | \(p["concurrency"]!) | \(formatFigure(result.value)) | \(range(result)) | \(formatFigure(e["p50_ms"] ?? .nan)) | \(formatFigure(e["p90_ms"] ?? .nan)) | \(formatFigure(e["p99_ms"] ?? .nan)) | \(formatFigure(e["max_ms"] ?? .nan)) | \(peers.isEmpty ? "–" : peers.joined(separator: "<br>")) |")
            }
            if let ceiling = suite("server").first(where: { $0.extra["share_of_health_live"] != nil }) {
                lines += ["", String(format: "The server's own ceiling: single-row V2 inference at 64 connections, %@ req/s, is %.0f%% of the trivial `/v2/health/live` route's %@ req/s, measured in turn (the goal: at least 80%%).",
                                     formatFigure(ceiling.value), 100 * ceiling.extra["share_of_health_live"]!, formatFigure(ceiling.extra["health_live_req_s"] ?? .nan))]
            }
            if let batch = suite("server").first(where: { $0.extra["compute_share"] != nil }) {
                lines += ["", String(format: "A %@-row batch: %.1f ms per request, of which %.1f ms (%.0f%%) is the model itself in process.", batch.parameters["rows"]!, 1000 / batch.value, batch.extra["compute_ms"]!, batch.extra["compute_share"]! * 100)]
            }
            if let grpc = suite("server").first(where: { $0.extra["grpc_to_http"] != nil }) {
                let e = grpc.extra
                lines += ["", "gRPC single-row `ModelInfer` at 64 concurrent calls (\(grpc.parameters["load generator"] ?? "?"), \(grpc.parameters["connections"] ?? "?") connections): "
                          + "\(formatFigure(grpc.value)) req/s (\(range(grpc))) against V2 HTTP's \(formatFigure(e["http_req_s"] ?? .nan)) req/s (wrk, 64 connections, "
                          + "\(formatFigure(e["http_req_s_low"] ?? .nan))–\(formatFigure(e["http_req_s_high"] ?? .nan))), measured in turn: gRPC ÷ HTTP \(ratio(e["grpc_to_http"] ?? .nan)). "
                          + "The server's CPU per call: \(formatFigure(e["server_cpu_us_per_call"] ?? .nan)) µs over gRPC, \(formatFigure(e["http_server_cpu_us_per_request"] ?? .nan)) µs over HTTP."]
            }
            if let memory = suite("server").first(where: { $0.extra["after_load_MB"] != nil }) {
                let peerMemory = memory.extra.keys.filter { $0.hasSuffix(" after load MB") }.sorted()
                    .map { "\($0.dropLast(" after load MB".count)) \(formatFigure(memory.extra[$0]!)) MB" }
                lines += ["", "Resident memory of the server: \(formatFigure(memory.value)) MB idle, \(formatFigure(memory.extra["after_load_MB"]!)) MB after the load"
                          + (peerMemory.isEmpty ? "." : "; the peers with their workers, after the load: " + peerMemory.joined(separator: "; ") + ".")]
            }
            if let plot = plots["server"] { lines += ["", "![Latency against connections](\(plot))"] }
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// One row per figure: ours with its range, each peer with the speed ratio, and the quality of each side.
    private func comparisonTable(_ rows: [Result], first: String, unit: String) -> [String] {
        let peerNames = Array(Set(rows.flatMap { $0.peers.map { peerKind($0.name) } })).sorted()
        var lines = ["| algorithm | \(first) | testbed \(unit) | range | " + peerNames.map { "\($0) \(unit) | speed ours ÷ \($0)" }.joined(separator: " | ") + " | quality (testbed / peers) |",
                     "|---|---:|---:|---|" + peerNames.map { _ in "---:|---:" }.joined(separator: "|") + (peerNames.isEmpty ? "" : "|") + "---|"]
        for result in rows {
            var cells = [result.parameters["algorithm"] ?? "", result.parameters[first] ?? "", formatFigure(result.value), range(result)]
            for name in peerNames {
                let peer = result.peers.first { peerKind($0.name) == name }
                let library = name == "Python library" ? peer.map { " (\($0.name.split(separator: " ").first!))" } ?? "" : ""
                cells += [peer.map { formatFigure($0.value) + library } ?? "–", peer.map { ratio($0.speedRatio) } ?? "–"]
            }
            // A log loss is shown to 1e-6: its agreement with the peer's, to 1e-4, is the point.
            let format = result.qualityMetric == "log_loss" ? "%.6f" : "%.4f"
            let testbed = result.quality["testbed"].map { String(format: format, $0) } ?? "–"
            let others = result.quality.keys.filter { $0 != "testbed" }.sorted().map { String(format: format, result.quality[$0]!) }
            cells.append(([testbed] + others).joined(separator: " / ") + (result.qualityMetric.map { " \($0)" } ?? ""))
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines
    }

    /// How fit time grows with rows: per family, the slope of log(seconds) against log(rows) fitted
    /// by least squares over the sizes measured (1: linear; above 1: faster than linear), ours and
    /// the peer's.
    private func growth(_ rows: [Result]) -> [String] {
        func slope(_ points: [(rows: Double, seconds: Double)]) -> Double {
            let usable = points.filter { $0.rows > 0 && $0.seconds > 0 && $0.seconds.isFinite }
            guard usable.count >= 2 else { return .nan }
            let xs = usable.map { log($0.rows) }, ys = usable.map { log($0.seconds) }
            let (mx, my) = (xs.reduce(0, +) / Double(xs.count), ys.reduce(0, +) / Double(ys.count))
            let sxx = xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
            return zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / sxx
        }
        var lines = ["", "Growth: the slope of log(fit seconds) against log(rows) over the sizes above (1 is linear).", "",
                     "| algorithm | rows | testbed slope | peer slope |", "|---|---|---:|---:|"]
        for algorithm in inOrder(rows.compactMap { $0.parameters["algorithm"] }) {
            let family = rows.filter { $0.parameters["algorithm"] == algorithm }
            guard family.count >= 2 else { continue }
            let sizes = family.compactMap { $0.parameters["rows"].flatMap(Double.init) }
            let ours = slope(zip(sizes, family.map(\.value)).map { ($0, $1) })
            let theirs = slope(zip(sizes, family.map { $0.peers.first?.value ?? .nan }).map { ($0, $1) })
            lines.append("| \(algorithm) | \(family.first!.parameters["rows"]!)–\(family.last!.parameters["rows"]!) | \(String(format: "%.2f", ours)) | \(theirs.isFinite ? String(format: "%.2f", theirs) : "–") |")
        }
        return lines.count > 5 ? lines : []
    }

    /// "scikit-learn 1.9.1" and "LightGBM 4.7.0" share a column as the Python library; ONNX Runtime has its own.
    private func peerKind(_ name: String) -> String { name.hasPrefix("ONNX Runtime") ? "ONNX Runtime" : "Python library" }

    private func range(_ result: Result) -> String { "\(formatFigure(result.range.low))–\(formatFigure(result.range.high))" }
    private func ratio(_ value: Double) -> String { value.isFinite ? String(format: value >= 1 ? "**%.2f×**" : "%.2f×", value) : "–" }

    /// Said plainly: every figure where a peer is faster, and by how much.
    private func behind() -> [String] {
        let slower = results.flatMap { result in result.peers.filter { $0.speedRatio < 1 }.map { (result, $0) } }
        let faster = results.flatMap { result in result.peers.filter { $0.speedRatio >= 1 }.map { (result, $0) } }
        guard !slower.isEmpty || !faster.isEmpty else { return [] }
        var lines = ["## Where the testbed stands", "",
                     "Of \(slower.count + faster.count) comparisons the testbed is faster in \(faster.count) and slower in \(slower.count)."]
        if !slower.isEmpty {
            lines += ["", "Behind a peer (peer's speed ÷ ours):", ""]
            lines += slower.sorted { $0.1.speedRatio < $1.1.speedRatio }.map { result, peer in
                "- \(result.suite) \(result.name): \(peer.name) is \(String(format: "%.2f", 1 / peer.speedRatio))× as fast"
            }
        }
        let qualityGaps = results.filter { $0.suite == "train" }.compactMap { result -> String? in
            // A log loss is better lower, and its goal is to equal the peer's to 1e-4.
            let lowerIsBetter = result.qualityMetric == "log_loss"
            let peers = result.quality.filter { $0.key != "testbed" }.values
            guard let ours = result.quality["testbed"], let best = lowerIsBetter ? peers.min() : peers.max(),
                  lowerIsBetter ? ours - best > 1e-4 : best - ours > 0.01 else { return nil }
            let format = lowerIsBetter ? "%.6f" : "%.4f"
            return "- \(result.name): held-out \(result.qualityMetric ?? "") \(String(format: format, ours)) against the peer's \(String(format: format, best))"
        }
        if !qualityGaps.isEmpty { lines += ["", "Held-out quality below the peer's (by more than 0.01, or 1e-4 in log loss):", ""] + qualityGaps }
        return lines + [""]
    }

    /// Plots where a reader would rather look than read.
    private func plots() -> [String: SVGPlot] {
        var plots: [String: SVGPlot] = [:]
        /// One panel per algorithm: the figure against parameter `x`, ours and each peer's.
        func panels(_ rows: [Result], x: String) -> [SVGPlot.Panel] {
            inOrder(rows.compactMap { $0.parameters["algorithm"] }).map { algorithm in
                let mine = rows.filter { $0.parameters["algorithm"] == algorithm }
                var series = [SVGPlot.Series(label: "testbed", points: mine.map { (Double($0.parameters[x]!)!, $0.value) })]
                for name in inOrder(mine.flatMap { $0.peers.map(\.name) }) {
                    series.append(SVGPlot.Series(label: name, points: mine.compactMap { result in
                        result.peers.first { $0.name == name }.map { (Double(result.parameters[x]!)!, $0.value) }
                    }))
                }
                return SVGPlot.Panel(title: algorithm, series: series)
            }
        }
        let train = suite("train").filter { $0.parameters["threads"] == nil && $0.parameters["memory"] == nil }
        if !train.isEmpty {
            plots["train"] = SVGPlot(title: "Time to fit against training rows (lower is better)", xLabel: "rows", yLabel: "seconds",
                                     panels: panels(train, x: "rows"))
        }
        let infer = suite("infer").filter { $0.parameters["batch"] != nil }
        if !infer.isEmpty {
            plots["infer"] = SVGPlot(title: "Rows per second against batch size (higher is better)", xLabel: "batch size", yLabel: "rows/s",
                                     panels: panels(infer, x: "batch"))
        }
        // The random forest's single-row routes (the logistic model is measured at one load only).
        let server = suite("server").filter { $0.parameters["rows"] == "1" && $0.parameters["api"] != "v2 infer (logistic)" }
        if !server.isEmpty {
            let apis = inOrder(server.compactMap { $0.parameters["api"] })
            plots["server"] = SVGPlot(title: "Single-row latency against connections (lower is better)", xLabel: "connections", yLabel: "milliseconds",
                                      panels: apis.map { api in
                let rows = server.filter { $0.parameters["api"] == api }
                let peers = Array(Set(rows.flatMap { $0.peers.map(\.name) })).sorted()
                let sides = [("testbed", "")] + peers.map { ($0, "\($0) ") }
                return SVGPlot.Panel(title: "\(api), 1 row", series: sides.flatMap { side, prefix in ["p50_ms", "p99_ms"].map { key in
                    SVGPlot.Series(label: "\(side) \(key.replacingOccurrences(of: "_ms", with: ""))",
                                   points: rows.map { (Double($0.parameters["concurrency"]!)!, $0.extra[prefix + key] ?? .nan) })
                } })
            })
        }
        return plots
    }
}

/// The distinct values, in the order they first appear.
private func inOrder(_ values: [String]) -> [String] {
    var seen = Set<String>()
    return values.filter { seen.insert($0).inserted }
}

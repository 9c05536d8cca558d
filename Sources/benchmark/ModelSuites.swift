import Foundation
import InferenceCore

/// The `train` and `infer` suites: every algorithm on a synthetic sensor table (numeric, no missing
/// cells, so that every peer takes it as it is), ours and the peers' in turn on the same rows, with
/// the held-out quality of both sides.
enum ModelSuites {
    static let columns = 20
    /// The algorithms, the task each is compared on, and the training sizes where they are sensible.
    static let algorithms: [(name: String, task: LearningTask, sizes: [Int])] = [
        ("ridge", .regression, [10_000, 100_000, 1_000_000]),
        ("logistic", .classification, [10_000, 100_000, 1_000_000]),
        // k-NN keeps its points: fitting it is a copy, so it has no training figures.
        ("knn", .regression, []),
        ("gbdt", .regression, [10_000, 100_000, 1_000_000]),
        ("random_forest", .regression, [10_000, 100_000]),
        ("mlp", .regression, [10_000, 100_000]),
    ]
    /// The same work on both sides: no early stopping (a fixed 100 boosting rounds), ten epochs of the network.
    static let parameters: [String: Hyperparameters] = ["gbdt": ["early_stopping": 0], "mlp": ["max_iter": 10, "early_stopping": 0]]
    static let epochs = 10
    /// Training rows in `--quick` mode, for both suites: small enough that the peers' random forest
    /// fits in seconds.
    static let quickRows = 2_000

    /// Rows from one generator: numeric readings in [-1, 1], a target with interactions and noise;
    /// classification is the sign of the same score.
    struct Tables {
        var x: Matrix
        var regression: [Double]
        var classes: [Double]
        var testX: Matrix
        var testRegression: [Double]
        var testClasses: [Double]

        init(rows: Int, testRows: Int) {
            (x, regression) = Self.generate(rows: rows, seed: 11)
            (testX, testRegression) = Self.generate(rows: testRows, seed: 12)
            classes = regression.map { $0 > 0 ? 1 : 0 }
            testClasses = testRegression.map { $0 > 0 ? 1 : 0 }
        }

        private static func generate(rows: Int, seed: UInt64) -> (Matrix, [Double]) {
            let x = randomMatrix(rows: rows, columns: columns, seed: seed)
            var noise = SeededGenerator(seed: seed + 100)
            let y = (0..<rows).map { row in
                sin(3 * x[row, 0]) + x[row, 1] * x[row, 2] + (x[row, 3] > 0 ? 0.5 : -0.5) + 0.3 * x[row, 4] - 0.2
                    + 0.2 * (Double(noise.next() >> 11) / Double(1 << 53) - 0.5)
            }
            return (x, y)
        }

        func target(_ task: LearningTask, rows: Int) -> Target {
            task == .regression ? Target(task: .regression, values: Array(regression.prefix(rows)))
                : Target(task: .classification, values: Array(classes.prefix(rows)), classes: ["0", "1"])
        }

        /// The held-out figure each family is judged by: R² for regression, log loss for the
        /// logistic regression (what its fit's stopping tolerance could move), accuracy otherwise.
        static func metric(_ algorithm: String, _ task: LearningTask) -> String {
            task == .regression ? "r2" : algorithm == "logistic" ? "log_loss" : "accuracy"
        }

        /// `metric` of `model` on the first `rows` test rows.
        func quality(_ model: any FittedModel, metric: String, rows: Int) -> Double {
            let output = model.predict(testX.selectingRows(0..<rows))
            switch metric {
            case "r2":
                return RegressionMetrics.compute(actual: Array(testRegression.prefix(rows)), predicted: output.storage)["r2"] ?? .nan
            case "log_loss":
                return ClassificationMetrics.logLoss(actual: testClasses.prefix(rows).map { Int($0) }, probabilities: output)
            default:
                let predicted = ClassificationMetrics.predictedClasses(output)
                return Double(zip(predicted, testClasses).filter { Double($0) == $1 }.count) / Double(rows)
            }
        }

        /// Hands the tables to the peer once, both targets included, as raw float64 files that are
        /// removed once the peer has read them.
        func load(into peer: Peer) throws {
            let arrays = ["x": x.storage, "test_x": testX.storage, "y_regression": regression, "y_classification": classes,
                          "test_y_regression": testRegression, "test_y_classification": testClasses]
            var command: [String: Any] = ["op": "load", "columns": columns, "epochs": epochs]
            var files: [URL] = []
            defer { files.forEach { try? FileManager.default.removeItem(at: $0) } }
            for (name, values) in arrays {
                let url = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(getpid())-\(name).f64")
                files.append(url)
                try values.withUnsafeBytes { try Data($0).write(to: url) }
                command[name] = url.path
            }
            _ = try peer.call(command)
        }
    }

    static let qualityRows = 5_000

    /// Fit time of each algorithm at growing sizes.
    static func train(_ context: BenchmarkContext, peer: Peer?) throws -> [Result] {
        let largest = context.quick ? quickRows : 1_000_000
        let tables = Tables(rows: largest, testRows: qualityRows)
        if let peer { try tables.load(into: peer) }
        var results: [Result] = []
        for algorithm in algorithms where context.measures(algorithm.name) {
            let sizes = algorithm.sizes.isEmpty ? [] : context.quick ? [quickRows] : algorithm.sizes
            for rows in sizes {
                let x = rows == tables.x.rows ? tables.x : tables.x.selectingRows(0..<rows)
                let target = tables.target(algorithm.task, rows: rows)
                let family = try AlgorithmRegistry.named(algorithm.name)
                var model: (any FittedModel)?
                var peerName: String?
                let peerFit: [() throws -> Double] = peer.map { peer in [{
                    let answer = try peer.call(["op": "fit", "algorithm": algorithm.name, "task": algorithm.task.rawValue, "rows": rows])
                    peerName = answer["library"] as? String
                    return answer["seconds"] as? Double ?? .nan
                }] } ?? []
                let repetitions = context.quick || rows >= 100_000 && algorithm.name == "random_forest" ? 1 : rows >= 1_000_000 ? 2 : 3
                let memory = PeakMemory(rows: rows)
                let (ours, theirs) = try Timing.alternate(repetitions: repetitions, warmUp: rows <= 10_000 && !context.quick, ours: {
                    model = try family.fit(x, target, parameters: parameters[algorithm.name] ?? [:], seed: 1)
                }, peers: peerFit)
                var result = Result(suite: "train", name: "\(algorithm.name) fit \(rows) × \(columns)", unit: "s", work: 1, timing: ours,
                                    isDuration: true, parameters: ["algorithm": algorithm.name, "rows": "\(rows)"])
                memory?.record(into: &result)
                let metric = Tables.metric(algorithm.name, algorithm.task)
                result.qualityMetric = metric
                result.quality["testbed"] = tables.quality(model!, metric: metric, rows: qualityRows)
                if let peer, let timing = theirs.first, let name = peerName {
                    let label = "\(name) \(peer.versions[name] ?? "")"
                    result.addPeer(label, timing)
                    result.quality[label] = try peer.call(["op": "score", "algorithm": algorithm.name, "rows": qualityRows, "metric": metric])["value"] as? Double
                }
                print(result.line)
                results.append(result)
            }
            // k-NN's fit keeps a copy of its points: no time worth comparing, but memory to report.
            if algorithm.name == "knn" && !context.quick {
                for rows in [100_000, 1_000_000] {
                    let x = rows == tables.x.rows ? tables.x : tables.x.selectingRows(0..<rows)
                    let target = tables.target(algorithm.task, rows: rows)
                    let memory = PeakMemory(rows: rows)
                    var model: (any FittedModel)?
                    let (ours, _) = try Timing.alternate(repetitions: 1, warmUp: false, ours: {
                        model = try AlgorithmRegistry.named("knn").fit(x, target, parameters: [:], seed: 1)
                    }, peers: [])
                    var result = Result(suite: "train", name: "knn fit \(rows) × \(columns) (memory)", unit: "s", work: 1, timing: ours,
                                        isDuration: true, parameters: ["algorithm": "knn", "rows": "\(rows)", "memory": "only"])
                    memory?.record(into: &result)
                    _ = model
                    print(result.line)
                    results.append(result)
                }
            }
        }
        return results + (try allCores(context, tables: tables, peer: peer))
    }

    /// The peak resident memory a fit adds, from 100,000 rows: the process's high-water mark over
    /// the fits of a row, less what it held before they began, against the training table's own
    /// size (rows × columns doubles).
    struct PeakMemory {
        let rows: Int
        let baseline: Double

        /// `nil` below 100,000 rows, or where the kernel cannot reset the high-water mark.
        init?(rows: Int) {
            guard rows >= 100_000, Memory.resetPeak() else { return nil }
            self.rows = rows
            baseline = Memory.resident().current
        }

        func record(into result: inout Result) {
            let added = Memory.resident().peak - baseline
            result.extra["peak memory MB"] = added / 1e6
            result.extra["table MB"] = Double(rows * columns * 8) / 1e6
            result.extra["peak memory / table"] = added / Double(rows * columns * 8)
        }
    }

    /// Every core against every core: the random forest's fit (its trees over the threads), gbdt's
    /// fit at 100,000 rows (its histograms' features over the threads) and a 5-fold
    /// cross-validation of gbdt (its folds over the threads, and their histograms), ours with
    /// ``Parallelism/threads`` at the machine's cores and the peers with `n_jobs=-1`, in turn with
    /// ours on one thread on the same rows. Each row's extra `speedup_from_1_thread` is the
    /// median over the rounds of (our one-thread time / our all-core time).
    static func allCores(_ context: BenchmarkContext, tables: Tables, peer: Peer?) throws -> [Result] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var results: [Result] = []
        for (algorithm, folds, fullRows) in [("random_forest", 0, 10_000), ("gbdt", 0, 100_000), ("gbdt", 5, 10_000)] where context.measures(algorithm) {
            let rows = context.quick ? quickRows : fullRows
            let x = tables.x.selectingRows(0..<rows), target = tables.target(.regression, rows: rows)
            let work: () throws -> Void
            if folds == 0 {
                let family = try AlgorithmRegistry.named(algorithm)
                work = { _ = try family.fit(x, target, parameters: parameters[algorithm] ?? [:], seed: 1) }
            } else {
                // Through the pipeline a user's `testbed evaluate` takes, on the same numbers.
                let table = DataTable(columns: (0..<columns).map { Column(name: "x\($0)", values: .numeric(x.column($0))) }
                                      + [Column(name: "y", values: .numeric(target.values))])
                var spec = TrainingSpec(target: "y", task: .regression, seed: 1, folds: folds)
                spec.algorithm = .named(algorithm)
                spec.parameters = parameters[algorithm] ?? [:]
                let prepared = try PreparedData(table, spec: spec)
                let resolved = try prepared.algorithm.resolve(spec.parameters)
                work = { _ = try prepared.crossValidate(parameters: resolved, seed: 1) }
            }
            var peerName: String?
            let oneThread: () throws -> Double = { try Parallelism.$taskThreads.withValue(1) { try Timing.seconds(work) } }
            let peerRun: [() throws -> Double] = peer.map { peer in [{
                var command: [String: Any] = ["op": folds == 0 ? "fit" : "cross_validate", "algorithm": algorithm, "task": "regression",
                                              "rows": rows, "threads": -1]
                if folds > 0 { command["folds"] = folds }
                let answer = try peer.call(command)
                peerName = answer["library"] as? String
                return answer["seconds"] as? Double ?? .nan
            }] } ?? []
            let (ours, others) = try Timing.alternate(repetitions: context.quick ? 1 : 3, warmUp: !context.quick, ours: {
                try Parallelism.$taskThreads.withValue(cores) { try work() }
            }, peers: [oneThread] + peerRun)
            let what = folds == 0 ? "fit" : "\(folds)-fold cross-validation"
            var result = Result(suite: "train", name: "\(algorithm) \(what) \(rows) × \(columns), all \(cores) cores", unit: "s", work: 1,
                                timing: ours, isDuration: true,
                                parameters: ["algorithm": algorithm, "rows": "\(rows)", "threads": "\(cores)", "work": what])
            result.extra["speedup_from_1_thread"] = Timing.median(zip(others[0].seconds, ours.seconds).map { $0 / $1 })
            result.extra["one_thread_s"] = others[0].median
            if let peer, others.count > 1, let name = peerName {
                result.addPeer("\(name) \(peer.versions[name] ?? "") n_jobs=-1", others[1])
            }
            print(result.line)
            results.append(result)
        }
        return results
    }

    /// Rows per second at growing batch sizes and single-row latency, for models fitted on 10,000 rows
    /// (`quickRows` in quick mode).
    static func infer(_ context: BenchmarkContext, peer: Peer?, ceiling: Double?) throws -> [Result] {
        let trainRows = context.quick ? quickRows : 10_000, batches = [1, 16, 256, 4096, 65536]
        let tables = Tables(rows: trainRows, testRows: 65536)
        if let peer { try tables.load(into: peer) }
        var results: [Result] = []
        for algorithm in algorithms where context.measures(algorithm.name) {
            let model = try AlgorithmRegistry.named(algorithm.name).fit(tables.x, tables.target(algorithm.task, rows: trainRows),
                                                                        parameters: parameters[algorithm.name] ?? [:], seed: 1)
            // The peers: the Python library's own model, and the scikit-learn one converted to ONNX.
            var sides: [(label: String, library: String)] = []
            let metric = Tables.metric(algorithm.name, algorithm.task)
            var quality = ["testbed": tables.quality(model, metric: metric, rows: qualityRows)]
            if let peer {
                let fitted = try peer.call(["op": "fit", "algorithm": algorithm.name, "task": algorithm.task.rawValue, "rows": trainRows])
                let name = fitted["library"] as? String ?? "peer"
                sides.append(("\(name) \(peer.versions[name] ?? "")", "python"))
                quality[sides[0].label] = try peer.call(["op": "score", "algorithm": algorithm.name, "rows": qualityRows, "metric": metric])["value"] as? Double
                if name == "scikit-learn" {
                    do {
                        _ = try peer.call(["op": "convert", "algorithm": algorithm.name])
                        sides.append(("ONNX Runtime \(peer.versions["ONNX Runtime"] ?? "")", "onnxruntime"))
                    } catch {
                        context.note("infer: no ONNX Runtime figures for \(algorithm.name): \(error)")
                    }
                }
            }
            // k-NN compares each row with every training point: its batches stop at 4,096 rows.
            let rowsPerMeasurement = algorithm.name == "knn" ? (context.quick ? 512 : 4096) : context.quick ? 16384 : 65536
            for batch in batches where batch <= rowsPerMeasurement {
                let calls = max(1, min(rowsPerMeasurement / batch, context.quick ? 20 : 200))
                // Call after call moves on through the test rows (bench/peers/peer.py's batch_starts
                // does the same), so that small batches are not timed on tree paths left in cache.
                let slices = (0..<calls).map { call in
                    let start = (call * batch) % (tables.testX.rows - batch + 1)
                    return tables.testX.selectingRows(start ..< start + batch)
                }
                let (ours, theirs) = try Timing.alternate(repetitions: context.quick ? 2 : 5, warmUp: true, ours: {
                    for rows in slices { _ = model.predict(rows) }
                }, peers: sides.map { side in { try peer!.seconds(["op": "predict", "algorithm": algorithm.name, "library": side.library, "batch": batch, "calls": calls]) } })
                var result = Result(suite: "infer", name: "\(algorithm.name) predict, batch \(batch)", unit: "rows/s", work: Double(batch * calls), timing: ours,
                                    parameters: ["algorithm": algorithm.name, "batch": "\(batch)"])
                for (side, timing) in zip(sides, theirs) { result.addPeer(side.label, timing) }
                result.qualityMetric = metric
                result.quality = quality
                if (algorithm.name == "ridge" || algorithm.name == "logistic") && batch == 65536 {
                    // One multiply-add per input value (plus the link for logistic): a memory-bound GEMV.
                    let seconds = ours.median / Double(calls)
                    result.extra["GFLOP/s"] = 2 * Double(batch * columns) / seconds / 1e9
                    result.extra["GB/s read"] = Double(batch * columns * 8) / seconds / 1e9
                    if let ceiling { result.extra["share of dgemm ceiling"] = result.extra["GFLOP/s"]! / ceiling }
                }
                print(result.line)
                results.append(result)
            }
            results.append(try latency(model, algorithm: algorithm.name, tables: tables, sides: sides, peer: peer, quick: context.quick))
            print(results.last!.line)
        }
        return results
    }

    /// Single-row predictions one after another: p50 and p99 of each call, in microseconds.
    private static func latency(_ model: any FittedModel, algorithm: String, tables: Tables, sides: [(label: String, library: String)],
                                peer: Peer?, quick: Bool) throws -> Result {
        let count = quick ? 100 : 2000
        let rows = (0..<count).map { tables.testX.selectingRows($0..<($0 + 1)) }
        for row in rows.prefix(50) { _ = model.predict(row) }
        var ours = Timing()
        for row in rows { ours.record { _ = model.predict(row) } }
        func percentile(_ seconds: [Double], _ share: Double) -> Double {
            let sorted = seconds.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * share).rounded(.down)))] * 1e6
        }
        var result = Result(suite: "infer", name: "\(algorithm) single-row latency", unit: "µs", work: 1, timing: ours, isDuration: true,
                            parameters: ["algorithm": algorithm, "latency": "single row"],
                            extra: ["p50 µs": percentile(ours.seconds, 0.5), "p99 µs": percentile(ours.seconds, 0.99)])
        for side in sides {
            _ = try peer!.call(["op": "latency", "algorithm": algorithm, "library": side.library, "count": 50])
            let seconds = try peer!.call(["op": "latency", "algorithm": algorithm, "library": side.library, "count": count])["seconds"] as? [Double] ?? []
            result.addPeer(side.label, Timing(seconds: seconds))
            // Calls are not paired one to one across sides: the ratio is of the medians.
            result.peers[result.peers.count - 1].speedRatio = Timing.median(seconds) / ours.median
            result.extra["\(side.label) p99 µs"] = percentile(seconds, 0.99)
        }
        return result
    }
}

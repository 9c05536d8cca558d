import ArgumentParser
import Foundation
import InferenceCore

/// Tree models on a synthetic regression table with interactions and missing cells: gbdt fit
/// time at the default settings, batch prediction and TreeSHAP throughput, the same for a random
/// forest, and, with a peer Python, LightGBM on the same table in the same run.
enum TreeBenchmark {
    static func run(_ context: BenchmarkContext) throws -> [Result] {
        let rows = context.quick ? 20_000 : 100_000, columns = 20, explainRows = 2_000
        let (x, target) = table(rows: rows, columns: columns)
        let sample = x.selectingRows(0..<explainRows)
        // No early stopping, so that every repetition fits the same 100 trees.
        let parameters: Hyperparameters = ["early_stopping": 0]
        var model = try GradientBoosting.algorithm.fit(x, target, parameters: parameters, seed: 1) as! BoostedTrees
        let operations: [(name: String, command: String, work: Double, unit: String, body: () throws -> Void)] = [
            ("fit \(rows) × \(columns), 100 trees of 31 leaves", "fit", 1, "s⁻¹",
             { model = try GradientBoosting.algorithm.fit(x, target, parameters: parameters, seed: 1) as! BoostedTrees }),
            ("predict \(rows) × \(columns), 100 trees", "predict", Double(rows) / 1e6, "M rows/s", { _ = model.predict(x) }),
            ("TreeSHAP \(explainRows) rows, 100 trees", "explain", Double(explainRows), "rows/s", { _ = model.contributions(sample) }),
        ]
        let peer = try context.peerPython.map { try lightGBM(python: $0, x: x, target: target, explainRows: explainRows) }
        let version = try peer?.ask("version") ?? ""
        var results: [Result] = []
        for operation in operations {
            // Ours and the peer's in turn, so that a machine whose speed drifts affects both alike.
            let repetitions = operation.command == "fit" ? max(2, context.repetitions / 2) : context.repetitions
            var ours = Timing(seconds: [], cpuSeconds: []), theirs = ours
            for _ in 0..<repetitions {
                try ours.record(operation.body)
                if let peer {
                    let seconds = try peer.seconds(operation.command)
                    theirs.seconds.append(seconds)
                    theirs.cpuSeconds.append(seconds)
                }
            }
            var result = Result(suite: "gbdt", name: operation.name, unit: operation.unit, work: operation.work, timing: ours)
            if operation.command == "fit" { result.extra["seconds"] = ours.median }
            results.append(result)
            guard peer != nil else { continue }
            let peerResult = Result(suite: "gbdt", name: "LightGBM \(version) \(operation.command), 1 thread", unit: operation.unit,
                                    work: operation.work, timing: theirs)
            // Above 1: faster than LightGBM. The median of the ratios of neighbouring runs, which shared the machine's state.
            results[results.count - 1].extra["× LightGBM"] = Timing.median(zip(theirs.seconds, ours.seconds).map { $0 / $1 })
            results.append(peerResult)
        }
        return results
    }

    /// A random forest of 100 trees grown to purity on a fifth of the table (so that the suite takes
    /// seconds, not minutes): fit time and batch prediction.
    static func runForest(_ context: BenchmarkContext) throws -> [Result] {
        let forestRows = (context.quick ? 20_000 : 100_000) / 5, columns = 20
        // The first rows of the gbdt table: it is generated row by row from the same seed.
        let (forestX, forestTarget) = table(rows: forestRows, columns: columns)
        var forest: (any FittedModel)?
        let forestFit = try Timing.measure(repetitions: max(1, context.repetitions / 2)) {
            forest = try RandomForest.algorithm.fit(forestX, forestTarget, seed: 1)
        }
        let fittedForest = forest as! ForestModel
        let forestPredict = Timing.measure(repetitions: context.repetitions) { _ = fittedForest.predict(forestX) }
        let leaves = fittedForest.trees.reduce(0) { $0 + ($1.nodeCount + 1) / 2 } / fittedForest.trees.count
        return [
            Result(suite: "forest", name: "fit \(forestRows) × \(columns), 100 trees", unit: "s⁻¹", work: 1, timing: forestFit,
                   extra: ["seconds": forestFit.median, "leaves per tree": Double(leaves)]),
            Result(suite: "forest", name: "predict \(forestRows) × \(columns), 100 trees", unit: "M rows/s", work: Double(forestRows) / 1e6,
                   timing: forestPredict),
        ]
    }

    /// The table of bench/peers/gbdt_lightgbm.py, which builds the same one in Python.
    static func table(rows: Int, columns: Int) -> (Matrix, Target) {
        var x = randomMatrix(rows: rows, columns: columns, seed: 5)
        let y = (0..<rows).map { row in
            sin(3 * x[row, 0]) + x[row, 1] * x[row, 2] + (x[row, 3] > 0 ? 1 : -1) + 0.1 * x[row, 4]
        }
        for row in stride(from: 0, to: rows, by: 37) { x[row, row % columns] = .nan }
        return (x, Target(task: .regression, values: y))
    }

    /// Starts the LightGBM peer on the same table, written for it as raw float64.
    private static func lightGBM(python: String, x: Matrix, target: Target, explainRows: Int) throws -> PeerProcess {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = FileManager.default.temporaryDirectory
        let (xPath, yPath) = (directory.appendingPathComponent("gbdt-x-\(getpid()).f64"), directory.appendingPathComponent("gbdt-y-\(getpid()).f64"))
        try x.storage.withUnsafeBytes { try Data($0).write(to: xPath) }
        try target.values.withUnsafeBytes { try Data($0).write(to: yPath) }
        return try PeerProcess(python: python, script: repository.appendingPathComponent("bench/peers/gbdt_lightgbm.py").path,
                               arguments: ["--x", xPath.path, "--y", yPath.path, "--columns", "\(x.columns)", "--explain-rows", "\(explainRows)"])
    }
}

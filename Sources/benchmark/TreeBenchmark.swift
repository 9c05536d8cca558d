import ArgumentParser
import Foundation
import InferenceCore

/// Tree models on a synthetic regression table with interactions and missing cells: gbdt fit
/// time at the default settings, batch prediction and TreeSHAP throughput, the same for a random
/// forest, and, with a peer Python, LightGBM on the same table in the same run.
enum TreeBenchmark {
    static func run(_ context: BenchmarkContext) throws -> [Result] {
        let rows = context.quick ? 20_000 : 100_000, columns = 20
        let (x, target) = table(rows: rows, columns: columns)
        // No early stopping, so that every repetition fits the same 100 trees.
        let parameters: Hyperparameters = ["early_stopping": 0]
        var model: (any FittedModel)?
        let fit = try Timing.measure(repetitions: max(1, context.repetitions / 2)) {
            model = try GradientBoosting.algorithm.fit(x, target, parameters: parameters, seed: 1)
        }
        let boosted = model as! BoostedTrees
        let predict = Timing.measure(repetitions: context.repetitions) { _ = boosted.predict(x) }
        let explainRows = 2_000
        let sample = x.selectingRows(0..<explainRows)
        let explain = Timing.measure(repetitions: context.repetitions) { _ = boosted.contributions(sample) }
        var results = [
            Result(suite: "gbdt", name: "fit \(rows) × \(columns), 100 trees of 31 leaves", unit: "s⁻¹", work: 1, timing: fit,
                   extra: ["seconds": fit.median]),
            Result(suite: "gbdt", name: "predict \(rows) × \(columns), 100 trees", unit: "M rows/s", work: Double(rows) / 1e6, timing: predict),
            Result(suite: "gbdt", name: "TreeSHAP \(explainRows) rows, 100 trees", unit: "rows/s", work: Double(explainRows), timing: explain),
        ]
        if let python = context.peerPython {
            let theirs = try lightGBM(python: python, rows: rows, repetitions: context.repetitions)
            // Above 1: faster than LightGBM on the same table, in the same run.
            for index in theirs.indices { results[index].extra["× LightGBM"] = results[index].median / theirs[index].median }
            results += theirs
        }

        // Forest trees grow to purity, so a smaller table keeps the suite to seconds.
        let forestRows = rows / 5
        let forestX = x.selectingRows(0..<forestRows)
        let forestTarget = Target(task: .regression, values: Array(target.values.prefix(forestRows)))
        var forest: (any FittedModel)?
        let forestFit = try Timing.measure(repetitions: max(1, context.repetitions / 2)) {
            forest = try RandomForest.algorithm.fit(forestX, forestTarget, seed: 1)
        }
        let fittedForest = forest as! ForestModel
        let forestPredict = Timing.measure(repetitions: context.repetitions) { _ = fittedForest.predict(forestX) }
        let leaves = fittedForest.trees.reduce(0) { $0 + ($1.nodeCount + 1) / 2 } / fittedForest.trees.count
        results += [
            Result(suite: "forest", name: "fit \(forestRows) × \(columns), 100 trees", unit: "s⁻¹", work: 1, timing: forestFit,
                   extra: ["seconds": forestFit.median, "leaves per tree": Double(leaves)]),
            Result(suite: "forest", name: "predict \(forestRows) × \(columns), 100 trees", unit: "M rows/s", work: Double(forestRows) / 1e6,
                   timing: forestPredict),
        ]
        return results
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

    /// Runs the LightGBM peer and adds its figures, and our speed as a multiple of its, to the results.
    private static func lightGBM(python: String, rows: Int, repetitions: Int) throws -> [Result] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench/peers/gbdt_lightgbm.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, "--rows", "\(rows)", "--repetitions", "\(repetitions)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("the LightGBM peer (\(python) \(script)) failed with status \(process.terminationStatus)")
        }
        let peer = try JSONDecoder().decode(PeerReport.self, from: data)
        func timing(_ figure: PeerReport.Figure) -> Timing { Timing(seconds: figure.seconds, cpuSeconds: figure.seconds) }
        return [
            Result(suite: "gbdt", name: "LightGBM \(peer.lightgbm) fit, 1 thread", unit: "s⁻¹", work: 1, timing: timing(peer.fit),
                   extra: ["seconds": peer.fit.median]),
            Result(suite: "gbdt", name: "LightGBM predict", unit: "M rows/s", work: Double(rows) / 1e6, timing: timing(peer.predict)),
            Result(suite: "gbdt", name: "LightGBM pred_contrib (TreeSHAP)", unit: "rows/s", work: Double(peer.explainRows), timing: timing(peer.explain)),
        ]
    }

    private struct PeerReport: Decodable {
        struct Figure: Decodable {
            var median: Double
            var seconds: [Double]
        }
        var lightgbm: String
        var explainRows: Int
        var fit: Figure
        var predict: Figure
        var explain: Figure

        enum CodingKeys: String, CodingKey {
            case lightgbm, fit, predict, explain
            case explainRows = "explain_rows"
        }
    }
}

import Foundation
import InferenceCore

/// Gradient-boosted trees on a synthetic regression table with interactions and missing cells:
/// fit time at the default settings, and batch prediction throughput.
enum TreeBenchmark {
    static func run(_ context: BenchmarkContext) throws -> [Result] {
        let rows = context.quick ? 20_000 : 100_000, columns = 20
        var x = randomMatrix(rows: rows, columns: columns, seed: 5)
        let y = (0..<rows).map { row in
            sin(3 * x[row, 0]) + x[row, 1] * x[row, 2] + (x[row, 3] > 0 ? 1 : -1) + 0.1 * x[row, 4]
        }
        for row in stride(from: 0, to: rows, by: 37) { x[row, row % columns] = .nan }
        let target = Target(task: .regression, values: y)
        // No early stopping, so that every repetition fits the same 100 trees.
        let parameters: Hyperparameters = ["early_stopping": 0]
        var model: (any FittedModel)?
        let fit = try Timing.measure(repetitions: max(1, context.repetitions / 2)) {
            model = try GradientBoosting.algorithm.fit(x, target, parameters: parameters, seed: 1)
        }
        let fitted = model!
        let predict = Timing.measure(repetitions: context.repetitions) { _ = fitted.predict(x) }
        return [
            Result(suite: "gbdt", name: "fit \(rows) × \(columns), 100 trees of 31 leaves", unit: "s⁻¹", work: 1, timing: fit,
                   extra: ["seconds": fit.median]),
            Result(suite: "gbdt", name: "predict \(rows) × \(columns), 100 trees", unit: "M rows/s", work: Double(rows) / 1e6, timing: predict),
        ]
    }
}

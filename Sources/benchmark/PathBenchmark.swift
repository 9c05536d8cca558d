import Foundation
import InferenceCore

/// The `paths` suite: what `auto`'s regularization paths cost against one fit of the same model
/// on the same rows. Ridge: one SVD for every penalty against one Cholesky fit; logistic
/// regression: the warm-started path over C against one fit at C = 1 from zeros (and the same
/// path fitted cold, each C from zeros, for comparison).
enum PathBenchmark {
    static func run(_ context: BenchmarkContext) throws -> [Result] {
        var results: [Result] = []
        let shapes = context.quick ? [(2_000, 20)] : [(2_000, 20), (20_000, 20), (20_000, 100)]
        for (rows, columns) in shapes {
            let tables = ModelSuites.Tables(rows: rows, testRows: 1)
            let x = standardized(randomMatrix(rows: rows, columns: columns, seed: 21), plus: tables.x)
            let y = tables.regression, classes = tables.classes.map { Int($0) }
            let shape = ["rows": "\(rows)", "columns": "\(columns)"]
            let alphas = RidgePath.searchAlphas, Cs = LogisticRegression.searchCs

            var ridge = [
                Result(suite: "paths", name: "ridge one fit, \(rows)×\(columns)", unit: "ms", work: 1,
                       timing: try Timing.measure(repetitions: context.repetitions) { _ = try RidgeRegression.fit(x, y, alpha: 1) },
                       isDuration: true, parameters: shape.merging(["model": "ridge", "run": "one fit"]) { $1 }),
                Result(suite: "paths", name: "ridge path of \(alphas.count), \(rows)×\(columns)", unit: "ms", work: 1,
                       timing: try Timing.measure(repetitions: context.repetitions) {
                           let path = try RidgePath(x, y)
                           for alpha in alphas { _ = path.model(alpha: alpha) }
                       },
                       isDuration: true, parameters: shape.merging(["model": "ridge", "run": "path"]) { $1 }),
            ]
            ridge[1].extra["× one fit"] = ridge[1].timing.median / ridge[0].timing.median

            var logistic = [
                Result(suite: "paths", name: "logistic one fit (C=1), \(rows)×\(columns)", unit: "ms", work: 1,
                       timing: try Timing.measure(repetitions: context.repetitions) {
                           _ = try LogisticRegression.fit(x, classes: classes, classCount: 2, C: 1)
                       },
                       isDuration: true, parameters: shape.merging(["model": "logistic", "run": "one fit"]) { $1 }),
                Result(suite: "paths", name: "logistic path of \(Cs.count), warm, \(rows)×\(columns)", unit: "ms", work: 1,
                       timing: try Timing.measure(repetitions: context.repetitions) {
                           _ = try LogisticRegression.path(x, classes: classes, classCount: 2, Cs: Cs)
                       },
                       isDuration: true, parameters: shape.merging(["model": "logistic", "run": "path"]) { $1 }),
                Result(suite: "paths", name: "logistic path of \(Cs.count), cold, \(rows)×\(columns)", unit: "ms", work: 1,
                       timing: try Timing.measure(repetitions: context.repetitions) {
                           for C in Cs { _ = try LogisticRegression.fit(x, classes: classes, classCount: 2, C: C) }
                       },
                       isDuration: true, parameters: shape.merging(["model": "logistic", "run": "cold path"]) { $1 }),
            ]
            logistic[1].extra["× one fit"] = logistic[1].timing.median / logistic[0].timing.median
            logistic[2].extra["× one fit"] = logistic[2].timing.median / logistic[0].timing.median
            results += ridge + logistic
        }
        results.forEach { print($0.line) }
        return results
    }

    /// The sensor table's 20 columns first, then noise columns up to the width of `noise`,
    /// standardised as the pipeline standardises them for linear models.
    private static func standardized(_ noise: Matrix, plus signal: Matrix) -> Matrix {
        var x = noise
        for row in 0..<x.rows {
            for column in 0..<min(signal.columns, x.columns) { x[row, column] = signal[row, column] }
        }
        for column in 0..<x.columns {
            let values = x.column(column)
            let mean = values.reduce(0, +) / Double(values.count)
            let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
            for row in 0..<x.rows { x[row, column] = (values[row] - mean) / max(std, 1e-12) }
        }
        return x
    }
}

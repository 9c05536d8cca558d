import Foundation
import InferenceCore

/// k-NN prediction and MLP training, which do their arithmetic in GEMM: their achieved GFLOP/s
/// (the GEMM floating-point operations over the whole run's time) against a DGEMM of the same
/// shapes and the machine's square DGEMM, in the same run.
enum GEMMModelBenchmark {
    static func run(_ context: BenchmarkContext) throws -> [Result] {
        let points = context.quick ? 5_000 : 20_000, queries = 2_000, columns = 20
        let x = randomMatrix(rows: points, columns: columns, seed: 7)
        let target = Target(task: .regression, values: (0..<points).map { x[$0, 0] - x[$0, 1] * x[$0, 2] })
        let queryRows = randomMatrix(rows: queries, columns: columns, seed: 8)
        let knn = try KNearestNeighbors.algorithm.fit(x, target)
        let knnFlops = 2.0 * Double(queries * points * columns) / 1e9
        var distances = Matrix(rows: queries, columns: points)
        let (predict, gemm) = (Timing.measure(repetitions: context.repetitions) { _ = knn.predict(queryRows) },
                               Timing.measure(repetitions: context.repetitions) { BLAS.gemm(queryRows, x, transposeB: true, into: &distances) })

        // Default network (100 hidden units), a fixed number of epochs so that every run does the same work.
        let epochs = 10, hidden = 100
        let parameters: Hyperparameters = ["max_iter": Double(epochs), "early_stopping": 0, "hidden_units": Double(hidden)]
        let train = try Timing.measure(repetitions: max(1, context.repetitions / 2)) {
            _ = try MultilayerPerceptron.algorithm.fit(x, target, parameters: parameters, seed: 1)
        }
        // Per row and epoch: forward 2·(d·h + h), weight gradients the same again, and the error back through the output layer 2·h.
        let mlpFlops = Double(epochs * points) * (4.0 * Double(columns * hidden + hidden) + 2.0 * Double(hidden)) / 1e9

        let size = 1_024
        let a = randomMatrix(rows: size, columns: size, seed: 1)
        var c = Matrix(rows: size, columns: size)
        let peak = Timing.measure(repetitions: context.repetitions) { BLAS.gemm(a, a, into: &c) }
        let peakRate = 2.0 * pow(Double(size), 3) / 1e9 / peak.median
        var results = [
            Result(suite: "gemm", name: "dgemm \(size)³ (machine reference)", unit: "GFLOP/s", work: 2.0 * pow(Double(size), 3) / 1e9, timing: peak),
            Result(suite: "gemm", name: "dgemm \(queries)×\(columns)·\(columns)×\(points) (knn's shape)", unit: "GFLOP/s", work: knnFlops, timing: gemm),
            Result(suite: "gemm", name: "knn predict \(queries) rows, \(points) points", unit: "GFLOP/s", work: knnFlops, timing: predict,
                   extra: ["share of time in GEMM": gemm.median / predict.median]),
            Result(suite: "gemm", name: "mlp fit \(points) × \(columns), \(hidden) units, \(epochs) epochs", unit: "GFLOP/s", work: mlpFlops, timing: train,
                   extra: ["seconds": train.median]),
        ]
        for index in 1..<results.count { results[index].extra["share of square dgemm"] = results[index].median / peakRate }
        return results
    }
}

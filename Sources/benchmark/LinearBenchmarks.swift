import Foundation
import InferenceCore

/// The machine's own ceiling: DGEMM and SGEMM throughput on one thread and on all cores.
enum BLASBenchmark {
    static func run(_ context: BenchmarkContext) -> [Result] {
        var results: [Result] = []
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for size in context.quick ? [512] : [256, 1024, 2048] {
            let flops = 2 * pow(Double(size), 3) / 1e9
            let a = randomMatrix(rows: size, columns: size, seed: 1), b = randomMatrix(rows: size, columns: size, seed: 2)
            var c = Matrix(rows: size, columns: size)
            let af = a.storage.map(Float.init), bf = b.storage.map(Float.init)
            var cf = [Float](repeating: 0, count: size * size)
            for threads in Set([1, cores]).sorted() {
                BLAS.setThreadCount(threads)
                results.append(Result(suite: "blas", name: "dgemm \(size)³, \(threads) thread\(threads == 1 ? "" : "s")", unit: "GFLOP/s", work: flops,
                                      timing: Timing.measure(repetitions: context.repetitions) { BLAS.gemm(a, b, into: &c) }))
                results.append(Result(suite: "blas", name: "sgemm \(size)³, \(threads) thread\(threads == 1 ? "" : "s")", unit: "GFLOP/s", work: flops,
                                      timing: Timing.measure(repetitions: context.repetitions) { BLAS.sgemm(m: size, n: size, k: size, a: af, b: bf, c: &cf) }))
            }
        }
        BLAS.setThreadCount(1)
        return results
    }
}

/// Ridge fit on a tall table: one blocked dsyrk pass and a small Cholesky solve.
enum RidgeBenchmark {
    static func run(_ context: BenchmarkContext) throws -> [Result] {
        let rows = context.quick ? 200_000 : 1_000_000, columns = 50
        let x = randomMatrix(rows: rows, columns: columns, seed: 3)
        let y = (0..<rows).map { x[$0, 0] * 2 - x[$0, 1] + 0.5 }
        let timing = try Timing.measure(repetitions: context.repetitions) { _ = try RidgeRegression.fit(x, y, alpha: 1) }
        let flops = Double(rows) * Double(columns) * Double(columns + 2) / 1e9  // syrk (n·d²) + gemv (2·n·d)
        return [Result(suite: "ridge", name: "fit \(rows) × \(columns)", unit: "GFLOP/s", work: flops, timing: timing,
                       extra: ["seconds": timing.median])]
    }
}

/// Batch prediction of a linear model against a plain GEMV on the same matrix.
enum PredictBenchmark {
    static func run(_ context: BenchmarkContext) -> [Result] {
        let rows = context.quick ? 200_000 : 1_000_000, columns = 20
        let x = randomMatrix(rows: rows, columns: columns, seed: 4)
        let weights = (0..<columns).map { Double($0) / 10 - 1 }
        let model = LinearModel(link: .identity, coefficients: Matrix(rows: 1, columns: columns, storage: weights), intercepts: [0.25])
        // Three ways, timed in turn many times: a plain GEMV writing a new output (as `X @ w` does,
        // and as any prediction must), one into an output already mapped and warm (the strictest
        // baseline), and the model's own prediction.
        var reused = [Double](repeating: 0, count: rows)
        let timings = Timing.measureAlternating(repetitions: context.repetitions * 5, [
            {
                var output = [Double](unsafeUninitializedCapacity: rows) { _, initialized in initialized = rows }
                BLAS.gemv(x, weights, into: &output)
            },
            { BLAS.gemv(x, weights, into: &reused) },
            { _ = model.predict(x) },
        ])
        let (plain, warm, ours) = (timings[0], timings[1], timings[2])
        let millionRows = Double(rows) / 1e6
        func result(_ name: String, _ timing: Timing) -> Result {
            Result(suite: "predict", name: "\(name) \(rows) × \(columns)", unit: "M rows/s", work: millionRows, timing: timing,
                   extra: ["GB/s": Double(rows * columns * 8) / timing.median / 1e9])
        }
        var linear = result("linear model predict", ours)
        linear.extra["share of plain gemv"] = plain.median / ours.median
        linear.extra["share of gemv into reused output"] = warm.median / ours.median
        return [result("plain dgemv, new output", plain), result("plain dgemv, reused output", warm), linear]
    }
}

func randomMatrix(rows: Int, columns: Int, seed: UInt64) -> Matrix {
    var generator = SeededGenerator(seed: seed)
    return Matrix(rows: rows, columns: columns, storage: (0..<rows * columns).map { _ in Double(generator.next() >> 11) / Double(1 << 53) * 2 - 1 })
}

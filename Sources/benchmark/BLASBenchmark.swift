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
                let label = "\(size)³, \(threads) thread\(threads == 1 ? "" : "s")"
                let parameters = ["size": "\(size)", "threads": "\(threads)"]
                results.append(Result(suite: "blas", name: "dgemm \(label)", unit: "GFLOP/s", work: flops,
                                      timing: Timing.measure(repetitions: context.repetitions) { BLAS.gemm(a, b, into: &c) },
                                      parameters: parameters.merging(["routine": "dgemm"]) { $1 }))
                results.append(Result(suite: "blas", name: "sgemm \(label)", unit: "GFLOP/s", work: flops,
                                      timing: Timing.measure(repetitions: context.repetitions) { BLAS.sgemm(m: size, n: size, k: size, a: af, b: bf, c: &cf) },
                                      parameters: parameters.merging(["routine": "sgemm"]) { $1 }))
            }
        }
        BLAS.setThreadCount(1)
        results.forEach { print($0.line) }
        return results
    }

    /// The single-thread DGEMM rate at the largest size: the ceiling the models' figures are read against.
    static func ceiling(_ results: [Result]) -> Double? {
        results.filter { $0.parameters["routine"] == "dgemm" && $0.parameters["threads"] == "1" }
            .max { Int($0.parameters["size"]!)! < Int($1.parameters["size"]!)! }?.value
    }
}

func randomMatrix(rows: Int, columns: Int, seed: UInt64) -> Matrix {
    var generator = SeededGenerator(seed: seed)
    return Matrix(rows: rows, columns: columns, storage: (0..<rows * columns).map { _ in Double(generator.next() >> 11) / Double(1 << 53) * 2 - 1 })
}

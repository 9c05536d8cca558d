import ArgumentParser
import Foundation
import InferenceCore

/// `swift run -c release benchmark`: micro benchmarks of the core, each figure the median of
/// several timed repetitions after a warm-up, with its spread.
@main
struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark", abstract: "Measure CSV ingest, BLAS throughput, model training, prediction and explanation speed on this machine.")

    @Option(name: .long, help: "Comma-separated suites: \(Suite.allCases.map(\.rawValue).joined(separator: ",")).")
    var suite: String = Suite.allCases.map(\.rawValue).joined(separator: ",")

    @Flag(name: .long, help: "Smaller sizes and fewer repetitions (about a minute).")
    var quick = false

    @Option(name: .long, help: "Timed repetitions per figure (after one warm-up).")
    var repetitions: Int?

    @Option(name: .long, help: "A Python with LightGBM (e.g. .venv-reference/bin/python): the gbdt suite then times LightGBM on the same table and prints our speed as a multiple of its.")
    var peerPython: String?

    @Option(name: .long, help: "Also write the results as JSON to this file.")
    var json: String?

    enum Suite: String, CaseIterable {
        case csv, blas, ridge, predict, gbdt, forest, gemm, server
    }

    func run() throws {
        let suites = try suite.split(separator: ",").map { name in
            guard let suite = Suite(rawValue: String(name)) else {
                throw ValidationError("unknown suite '\(name)'; expected some of: \(Suite.allCases.map(\.rawValue).joined(separator: ","))")
            }
            return suite
        }
        let context = BenchmarkContext(quick: quick, repetitions: repetitions ?? (quick ? 3 : 5), peerPython: peerPython)
        var report = Report(machine: MachineDescription.current())
        print(report.machine.summary)
        // CSV first: its peak-memory figure is read before the other suites allocate.
        for suite in Suite.allCases where suites.contains(suite) {
            let results: [Result]
            switch suite {
            case .csv: results = try CSVBenchmark.run(context)
            case .blas: results = BLASBenchmark.run(context)
            case .ridge: results = try RidgeBenchmark.run(context)
            case .predict: results = PredictBenchmark.run(context)
            case .gbdt: results = try TreeBenchmark.run(context)
            case .forest: results = try TreeBenchmark.runForest(context)
            case .gemm: results = try GEMMModelBenchmark.run(context)
            case .server: results = try ServerBenchmark.run(context)
            }
            results.forEach { print($0.line) }
            report.results += results
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
    }
}

struct BenchmarkContext {
    var quick: Bool
    var repetitions: Int
    var peerPython: String?
}

import ArgumentParser
import Foundation
import InferenceCore

/// `swift run -c release benchmark`: the machine's ceiling, CSV ingest, training, inference and the
/// server, each figure the median of several repetitions after a warm-up with its spread, the
/// peers' figures for the same work measured in turn with ours, and a report to read.
@main
struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Measure BLAS, CSV ingest, training, inference and the HTTP server on this machine, side by side with scikit-learn, LightGBM, ONNX Runtime and pandas.")

    @Option(name: .long, help: "Comma-separated suites: \(Suite.allCases.map(\.rawValue).joined(separator: ",")).")
    var suite: String = Suite.allCases.map(\.rawValue).joined(separator: ",")

    @Flag(name: .long, help: "Small sizes and few repetitions: about a minute.")
    var quick = false

    @Option(name: .long, help: "Timed repetitions per figure where the suite does not choose (after one warm-up).")
    var repetitions: Int?

    @Option(name: .long, help: "The Python with the peers (default .venv-bench/bin/python, made by bench/peers/setup.sh).")
    var peerPython: String?

    @Option(name: .long, help: "Comma-separated model families the train and infer suites measure (default: all of them).")
    var algorithms: String?

    @Flag(name: .long, help: "Measure only the testbed, even where the peers are installed.")
    var noPeers = false

    @Option(name: .long, help: "Write the results as JSON to this file.")
    var json: String?

    @Option(name: .long, help: "Write a Markdown report to this file, with SVG plots beside it.")
    var markdown: String?

    enum Suite: String, CaseIterable {
        case blas, csv, train, infer, server
        /// A large batch over each Open Inference Protocol transport, against the model's own time.
        case transport
        /// What `auto`'s regularization paths cost against one fit.
        case paths
        /// Replicas on PostgreSQL behind nginx: inference through the balancer, jobs, read routes.
        case cluster
    }

    func run() throws {
        let suites = try suite.split(separator: ",").map { name in
            guard let suite = Suite(rawValue: String(name)) else {
                throw ValidationError("unknown suite '\(name)'; expected some of: \(Suite.allCases.map(\.rawValue).joined(separator: ","))")
            }
            return suite
        }
        // A report that cannot be written should fail now, not after the run.
        for path in [json, markdown].compactMap({ $0 }) {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
            do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
                throw ValidationError("cannot create the directory \(directory.path) for \(path): \(error.localizedDescription)")
            }
        }
        let families = algorithms.map { Set($0.split(separator: ",").map(String.init)) }
        if let unknown = families?.subtracting(ModelSuites.algorithms.map(\.name)).sorted().first {
            throw ValidationError("unknown algorithm '\(unknown)'; expected some of: \(ModelSuites.algorithms.map(\.name).joined(separator: ","))")
        }
        // The rows compare one thread with one thread; the all-core rows ask for every core themselves.
        Parallelism.setThreads(1)
        let context = BenchmarkContext(quick: quick, repetitions: repetitions ?? (quick ? 2 : 5), algorithms: families)
        let peer = try startPeer()
        var report = Report(machine: MachineDescription.current(), mode: quick ? "quick" : "full", peers: peer?.versions ?? [:])
        print(report.machine.summary)
        if peer == nil { report.notes.append(noPeers ? "Peers not measured (--no-peers)." : "Peers not installed (bench/peers/setup.sh installs them); only the testbed was measured.") }
        print(report.notes.last ?? "peers: \(report.peers.keys.sorted().map { "\($0) \(report.peers[$0]!)" }.joined(separator: ", "))")
        let started = Date()
        for suite in Suite.allCases where suites.contains(suite) {
            let suiteStarted = Date()
            defer { print("\(suite.rawValue): \(Int(Date().timeIntervalSince(suiteStarted))) s") }
            switch suite {
            case .blas: report.results += BLASBenchmark.run(context)
            case .csv: report.results += try CSVBenchmark.run(context, peer: peer)
            case .train: report.results += try ModelSuites.train(context, peer: peer)
            case .infer: report.results += try ModelSuites.infer(context, peer: peer, ceiling: BLASBenchmark.ceiling(report.results))
            case .server: report.results += try ServerBenchmark.run(context, python: noPeers ? nil : peerPython ?? Peer.defaultPython())
            case .transport: report.results += try BatchTransportBenchmark.run(context)
            case .paths: report.results += try PathBenchmark.run(context)
            case .cluster: report.results += try ClusterBenchmark.run(context)
            }
        }
        report.notes += context.notes
        report.seconds = Date().timeIntervalSince(started)
        print("finished in \(Int(report.seconds)) s")
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
        if let markdown { try ReportWriter(report: report).write(to: URL(fileURLWithPath: markdown)) }
    }

    private func startPeer() throws -> Peer? {
        guard !noPeers, let python = peerPython ?? Peer.defaultPython() else { return nil }
        return try Peer(python: python)
    }
}

/// The run's settings, and what the suites could not measure (printed, and kept for the report).
final class BenchmarkContext {
    let quick: Bool
    let repetitions: Int
    /// The model families the train and infer suites measure (`nil`: all).
    let algorithms: Set<String>?
    private(set) var notes: [String] = []

    init(quick: Bool, repetitions: Int, algorithms: Set<String>? = nil) {
        self.quick = quick
        self.repetitions = repetitions
        self.algorithms = algorithms
    }

    /// Whether the train and infer suites measure this family.
    func measures(_ algorithm: String) -> Bool { algorithms?.contains(algorithm) ?? true }

    func note(_ text: String) {
        print(text)
        notes.append(text)
    }
}

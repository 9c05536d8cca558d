import Foundation
import Testing
@testable import benchmark

/// The harness's own arithmetic and report: ratios from alternated runs, what the report says
/// plainly, and plots that hold every side.
@Suite("Benchmark report")
struct ReportTests {
    func result(_ seconds: [Double], peer: [Double], unit: String = "rows/s", work: Double = 1000, duration: Bool = false) -> Result {
        var result = Result(suite: "infer", name: "gbdt predict, batch 16", unit: unit, work: work, timing: Timing(seconds: seconds),
                            isDuration: duration, parameters: ["algorithm": "gbdt", "batch": "16"])
        result.addPeer("LightGBM 4.7.0", Timing(seconds: peer))
        return result
    }

    @Test func theRatioPairsRoundsAndIsAboveOneWhenWeAreFaster() {
        // Round by round the peer takes 2, 3 and 100 times as long; the median of the pairs is 3.
        let faster = result([0.01, 0.02, 0.001], peer: [0.02, 0.06, 0.1])
        #expect(faster.peers[0].speedRatio == 3)
        #expect(faster.value == 1000 / 0.01)
        #expect(faster.peers[0].value == 1000 / 0.06)
        let slower = result([2, 2, 2], peer: [1, 1, 1], unit: "s", duration: true)
        #expect(slower.peers[0].speedRatio == 0.5)
        #expect(slower.value == 2 && slower.peers[0].value == 1)
    }

    @Test func alternationRunsEverySideOncePerRound() throws {
        var order: [String] = []
        let (ours, peers) = try Timing.alternate(repetitions: 3, warmUp: true, ours: { order.append("ours") },
                                                 peers: [{ order.append("peer"); return 0.5 }])
        #expect(order == Array(repeating: ["ours", "peer"], count: 4).flatMap { $0 })
        #expect(ours.seconds.count == 3 && peers[0].seconds == [0.5, 0.5, 0.5])
    }

    @Test func theReportSaysWhereAPeerIsFasterAndPlotsBothSides() throws {
        let machine = MachineDescription(cpu: "test CPU", cores: 2, memoryGiB: 4, openBLAS: "0.3", blasThreads: "1", build: "release", swift: "Swift 6")
        var training = result([4, 4], peer: [1, 1], unit: "s", duration: true)
        training.suite = "train"
        training.parameters = ["algorithm": "random_forest", "rows": "10000"]
        training.name = "random_forest fit 10000 × 20"
        training.qualityMetric = "r2"
        training.quality = ["testbed": 0.90, "LightGBM 4.7.0": 0.95]
        // A log loss is better lower: 0.4102 against 0.4100 is behind by more than 1e-4, 0.4098 is not.
        var logistic = Result(suite: "train", name: "logistic fit 10000 × 20", unit: "s", work: 1, timing: Timing(seconds: [1]), isDuration: true,
                              parameters: ["algorithm": "logistic", "rows": "10000", "memory": "only"])
        logistic.qualityMetric = "log_loss"
        logistic.quality = ["testbed": 0.4102, "scikit-learn 1.9.1": 0.4100]
        var better = logistic
        better.name = "logistic fit 100000 × 20"
        better.quality["testbed"] = 0.4098
        let report = Report(machine: machine, mode: "quick", peers: ["LightGBM": "4.7.0"],
                            results: [result([0.01], peer: [0.03]), training, logistic, better], notes: [], seconds: 3)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-test-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try ReportWriter(report: report).write(to: directory.appendingPathComponent("run.md"))
        let markdown = try String(contentsOf: directory.appendingPathComponent("run.md"), encoding: .utf8)
        #expect(markdown.contains("Of 2 comparisons the testbed is faster in 1 and slower in 1."))
        #expect(markdown.contains("- train random_forest fit 10000 × 20: LightGBM 4.7.0 is 4.00× as fast"))
        #expect(markdown.contains("held-out r2 0.9000 against the peer's 0.9500"))
        #expect(markdown.contains("- logistic fit 10000 × 20: held-out log_loss 0.410200 against the peer's 0.410000"))
        #expect(!markdown.contains("- logistic fit 100000 × 20: held-out"))
        #expect(markdown.contains("| gbdt | 16 | 100000 |"))
        let plot = try String(contentsOf: directory.appendingPathComponent("run-infer.svg"), encoding: .utf8)
        #expect(plot.components(separatedBy: "<polyline").count == 3)
        #expect(plot.contains(">testbed<") && plot.contains(">LightGBM 4.7.0<"))
        #expect(markdown.contains("![Rows per second against batch size](run-infer.svg)"))
    }

    /// Fit time growing as rows^1.5 on our side and linearly on the peer's reads as slopes 1.50
    /// and 1.00; an all-core row stands in its own table with its speed-up; of two serving peers
    /// the report leads with the one nearer to us; the server's ceiling is said as a share.
    @Test func theReportGivesGrowthSlopesAllCoreRowsAndTheLeastFavourablePeer() throws {
        let machine = MachineDescription(cpu: "test CPU", cores: 2, memoryGiB: 4, openBLAS: "0.3", blasThreads: "1", build: "release", swift: "Swift 6")
        var results = [10_000.0, 100_000, 1_000_000].map { rows in
            var fit = result([pow(rows, 1.5) * 1e-9], peer: [rows * 1e-6], unit: "s", duration: true)
            fit.suite = "train"
            fit.name = "gbdt fit \(Int(rows)) × 20"
            fit.parameters = ["algorithm": "gbdt", "rows": "\(Int(rows))"]
            return fit
        }
        var allCores = result([1], peer: [2], unit: "s", duration: true)
        allCores.suite = "train"
        allCores.parameters = ["algorithm": "random_forest", "rows": "10000", "threads": "2", "work": "fit"]
        allCores.extra["speedup_from_1_thread"] = 1.9
        results.append(allCores)
        var serving = Result(suite: "server", name: "v2 infer 1 row, random forest, 64 conn", unit: "req/s", work: 1, timing: Timing(seconds: [1e-4]),
                             parameters: ["api": "v2 infer", "rows": "1", "concurrency": "64"])
        serving.addPeer("MLServer 1.7.1", Timing(seconds: [1e-2]))
        serving.addPeer("FastAPI 0.115", Timing(seconds: [1e-3]))
        results.append(serving)
        var ceiling = Result(suite: "server", name: "v2 infer 1 row, random forest, 64 conn, share of /v2/health/live", unit: "req/s", work: 1,
                             timing: Timing(seconds: [1e-4]), extra: ["health_live_req_s": 12_500, "share_of_health_live": 0.8])
        ceiling.parameters = ["api": "v2 infer (ceiling)", "rows": "1", "concurrency": "64"]
        results.append(ceiling)
        let report = Report(machine: machine, mode: "full", peers: [:], results: results, notes: [], seconds: 3)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-test-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try ReportWriter(report: report).write(to: directory.appendingPathComponent("run.md"))
        let markdown = try String(contentsOf: directory.appendingPathComponent("run.md"), encoding: .utf8)
        #expect(markdown.contains("| gbdt | 10000–1000000 | 1.50 | 1.00 |"), "\(markdown)")
        #expect(markdown.contains("| random_forest fit | 10000 | 2 | 1 | 1–1 | 1.90× |"))
        #expect(!markdown.contains("| random_forest | 10000 |"), "the all-core row stays out of the one-thread table")
        #expect(markdown.contains("The least favourable comparison: v2 infer 1 row, random forest, 64 conn against FastAPI 0.115, 10000 req/s against 1000: ours ÷ peer **10.00×**."))
        #expect(markdown.contains("is 80% of the trivial `/v2/health/live` route's 12500 req/s"))
    }
}

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
        let report = Report(machine: machine, mode: "quick", peers: ["LightGBM": "4.7.0"],
                            results: [result([0.01], peer: [0.03]), training], notes: [], seconds: 3)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-test-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try ReportWriter(report: report).write(to: directory.appendingPathComponent("run.md"))
        let markdown = try String(contentsOf: directory.appendingPathComponent("run.md"), encoding: .utf8)
        #expect(markdown.contains("Of 2 comparisons the testbed is faster in 1 and slower in 1."))
        #expect(markdown.contains("- train random_forest fit 10000 × 20: LightGBM 4.7.0 is 4.00× as fast"))
        #expect(markdown.contains("held-out r2 0.9000 against the peer's 0.9500"))
        #expect(markdown.contains("| gbdt | 16 | 100000 |"))
        let plot = try String(contentsOf: directory.appendingPathComponent("run-infer.svg"), encoding: .utf8)
        #expect(plot.components(separatedBy: "<polyline").count == 3)
        #expect(plot.contains(">testbed<") && plot.contains(">LightGBM 4.7.0<"))
        #expect(markdown.contains("![Rows per second against batch size](run-infer.svg)"))
    }
}

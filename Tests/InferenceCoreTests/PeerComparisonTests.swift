import Testing
@testable import InferenceCore

/// Our models against scikit-learn and LightGBM on the same folds of every shared dataset.
/// The peer figures come from scripts/reference/compare_peers.py (Fixtures/peers.json), which
/// cross-validated them on the folds `FoldSplitter` makes with seed 0.
@Suite("Quality against scikit-learn and LightGBM")
struct PeerComparisonTests {
    struct Figure: Decodable {
        var mean: Double
        var std: Double
    }

    struct Case: Decodable, CustomTestStringConvertible {
        var dataset: String
        var target: String
        var task: LearningTask
        var folds: Int
        var exclude: [String]
        var metric: String
        var peers: [String: Figure]

        var testDescription: String { dataset }
    }

    static let cases = (try? TestData.fixture("peers", as: Case.self)) ?? []

    @Test func fixtureCoversEveryDataset() {
        #expect(Self.cases.count == 10)
    }

    /// Our result on the case's folds; lower is better after the sign flip for accuracy.
    func crossValidated(_ algorithm: String, _ testCase: Case) throws -> Figure {
        let table = try TestData.table(testCase.dataset, target: testCase.target)
        let spec = TrainingSpec(target: testCase.target, task: testCase.task, algorithm: .named(algorithm), seed: 0,
                                folds: testCase.folds, excludedColumns: Set(testCase.exclude))
        let prepared = try PreparedData(table, spec: spec)
        let result = try prepared.crossValidate(plan: .random(folds: testCase.folds), parameters: prepared.algorithm.resolve([:]), seed: 0)
        return Figure(mean: try #require(result.metrics[testCase.metric]), std: try #require(result.metricsStd[testCase.metric]))
    }

    /// The figure oriented so that lower is better.
    func loss(_ figure: Figure, _ metric: String) -> Double {
        metric == "rmse" ? figure.mean : -figure.mean
    }

    /// How much worse ours is than theirs (negative: better).
    func shortfall(_ ours: Figure, _ theirs: Figure, _ metric: String) -> Double {
        loss(ours, metric) - loss(theirs, metric)
    }

    @Test("gbdt is within the fold-to-fold noise of HistGradientBoosting", arguments: cases)
    func gradientBoosting(_ testCase: Case) throws {
        let reference = try #require(testCase.peers["sklearn HistGradientBoosting"])
        let ours = try crossValidated("gbdt", testCase)
        #expect(abs(ours.mean - reference.mean) <= reference.std, "\(testCase.metric): gbdt \(ours.mean), HistGradientBoosting \(reference.mean) ± \(reference.std)")
    }

    @Test("random_forest is within the fold-to-fold noise of scikit-learn's RandomForest", arguments: cases)
    func randomForest(_ testCase: Case) throws {
        let reference = try #require(testCase.peers["sklearn RandomForest"])
        let ours = try crossValidated("random_forest", testCase)
        #expect(abs(ours.mean - reference.mean) <= reference.std, "\(testCase.metric): random_forest \(ours.mean), RandomForest \(reference.mean) ± \(reference.std)")
    }

    /// Our MLP standardises regression targets and stops early on large tables, so it differs from
    /// scikit-learn's defaults by design; it must not be worse by more than two standard deviations.
    @Test("mlp is no worse than scikit-learn's MLP beyond the noise", arguments: cases)
    func multilayerPerceptron(_ testCase: Case) throws {
        let reference = try #require(testCase.peers["sklearn MLP"])
        let ours = try crossValidated("mlp", testCase)
        #expect(shortfall(ours, reference, testCase.metric) <= 2 * reference.std, "\(testCase.metric): mlp \(ours.mean), MLP \(reference.mean) ± \(reference.std)")
    }
}

extension PeerComparisonTests {
    /// The full table (docs/quality-comparison.md) runs `auto` on every dataset; here the small ones.
    @Test("auto is at least as good as the best default peer, within its noise", arguments: cases.filter { ["Servo.csv", "Glass.csv", "oils.csv"].contains($0.dataset) })
    func automaticSelection(_ testCase: Case) throws {
        let table = try TestData.table(testCase.dataset, target: testCase.target)
        let spec = TrainingSpec(target: testCase.target, task: testCase.task, algorithm: .search(), seed: 0,
                                folds: testCase.folds, excludedColumns: Set(testCase.exclude))
        let choice = try ModelChoice(table, spec: spec, crossValidate: true, timeBudget: 15)
        let evaluation = try #require(choice.evaluation)
        let ours = Figure(mean: try #require(evaluation.metrics[testCase.metric]), std: 0)
        let best = try #require(testCase.peers.values.min { loss($0, testCase.metric) < loss($1, testCase.metric) })
        #expect(shortfall(ours, best, testCase.metric) <= best.std, "\(testCase.metric): auto \(ours.mean), best peer \(best.mean) ± \(best.std)")
    }
}

import Foundation
import Testing
@testable import InferenceCore

@Suite("Greedy ensemble selection")
struct EnsembleSelectionTests {
    /// Two candidates whose errors cancel: each alone has RMSE 1, their average 0.
    @Test func candidatesWhoseErrorsCancelAreAveragedEqually() throws {
        let actual: [Double] = [1, -1, 1, -1]
        let high = Matrix([[2], [0], [2], [0]])
        let low = Matrix([[0], [-2], [0], [-2]])
        let far = Matrix([[5], [5], [5], [5]])
        let result = try EnsembleSelection.select(outOfFold: [far, high, low], actual: actual, task: .regression, rounds: 6)
        // `high` and `low` tie alone; the first of them starts. Round 2 adds `low` (RMSE 0);
        // rounds 3–6 cannot beat 0, so the two-round ensemble is kept.
        #expect(result.bestSingle == 1)
        #expect(result.bestSingleScore.primary == 1)
        #expect(result.rounds == 2 && result.counts == [0, 1, 1] && result.weights == [0, 0.5, 0.5])
        #expect(result.score.primary == 0 && result.improves)
        #expect(result.members.map(\.candidate) == [1, 2])
    }

    @Test func aDominantCandidateStaysAloneAndDoesNotImprove() throws {
        let actual: [Double] = [0, 1, 2, 3]
        let exact = Matrix([[0], [1], [2], [3]])
        let off = Matrix([[1], [2], [3], [4]])
        let result = try EnsembleSelection.select(outOfFold: [off, exact], actual: actual, task: .regression)
        #expect(result.bestSingle == 1 && result.rounds == 1 && result.weights == [0, 1])
        #expect(!result.improves)
    }

    /// Accuracy ties are broken by log loss: both candidates are always right, the average is
    /// surer of the true class than the worse one but not than the better, and a tie keeps one.
    @Test func classificationRanksOnAccuracyThenLogLoss() throws {
        let actual: [Double] = [0, 1]
        let sure = Matrix([[0.9, 0.1], [0.2, 0.8]])
        let unsure = Matrix([[0.6, 0.4], [0.4, 0.6]])
        let wrong = Matrix([[0.1, 0.9], [0.9, 0.1]])
        let result = try EnsembleSelection.select(outOfFold: [unsure, wrong, sure], actual: actual, task: .classification)
        #expect(result.bestSingle == 2 && result.weights == [0, 0, 1] && !result.improves)
        #expect(result.bestSingleScore.primary == -1)
        #expect(isClose(result.bestSingleScore.tieBreak, -(log(0.9) + log(0.8)) / 2, tolerance: 1e-15))

        // A candidate right on the row the other gets wrong: together they are right on both.
        let firstRight = Matrix([[0.9, 0.1], [0.6, 0.4]])
        let secondRight = Matrix([[0.45, 0.55], [0.1, 0.9]])
        let pair = try EnsembleSelection.select(outOfFold: [firstRight, secondRight], actual: actual, task: .classification, rounds: 2)
        #expect(pair.bestSingleScore.primary == -0.5 && pair.score.primary == -1 && pair.weights == [0.5, 0.5])
    }

    /// Rows a candidate did not predict (time-ordered folds leave the first block untested) are
    /// left out of every score.
    @Test func untestedRowsAreLeftOut() throws {
        let actual: [Double] = [100, 1, -1]
        let high = Matrix([[.nan], [2], [0]])
        let low = Matrix([[.nan], [0], [-2]])
        let result = try EnsembleSelection.select(outOfFold: [high, low], actual: actual, task: .regression, rounds: 2)
        #expect(result.bestSingleScore.primary == 1 && result.score.primary == 0)
    }

    struct ReferenceCase: Decodable {
        var name: String
        var task: String
        var rounds: Int
        var actual: [Double]
        var predictions: [[[Double]]]
        var weights: [Double]
        var counts: [Int]
        var rounds_kept: Int
        var best_single: Int
        var score: [Double]
        var best_single_score: [Double]
    }

    /// numpy's selection (scripts/reference/ensemble_selection.py) on synthetic predictions.
    @Test func matchesTheReferenceScript() throws {
        let cases = try TestData.fixture("ensemble_selection", as: ReferenceCase.self)
        #expect(cases.count == 4)
        for reference in cases {
            let task: LearningTask = reference.task == "regression" ? .regression : .classification
            let result = try EnsembleSelection.select(outOfFold: reference.predictions.map { Matrix($0) }, actual: reference.actual,
                                                      task: task, rounds: reference.rounds)
            #expect(result.counts == reference.counts, "\(reference.name)")
            #expect(result.rounds == reference.rounds_kept && result.bestSingle == reference.best_single, "\(reference.name)")
            #expect(maxRelativeError(result.weights, reference.weights) <= 1e-15, "\(reference.name)")
            #expect(isClose(result.score.primary, reference.score[0], tolerance: 1e-12), "\(reference.name)")
            #expect(isClose(result.score.tieBreak, reference.score[1], tolerance: 1e-12), "\(reference.name)")
            #expect(isClose(result.bestSingleScore.primary, reference.best_single_score[0], tolerance: 1e-12), "\(reference.name)")
            #expect(result.improves, "\(reference.name)")
        }
    }

    @Test func badInputIsRefused() throws {
        #expect(throws: TestbedError(.invalidParameter, "an ensemble needs at least one candidate's out-of-fold predictions")) {
            try EnsembleSelection.select(outOfFold: [], actual: [1], task: .regression)
        }
        #expect(throws: TestbedError(.invalidParameter, "ensemble selection rounds == 0, must be >= 1")) {
            try EnsembleSelection.select(outOfFold: [Matrix([[1]])], actual: [1], task: .regression, rounds: 0)
        }
        #expect(throws: TestbedError(.shapeMismatch, "candidate 2's out-of-fold predictions are 1 × 1, expected 2 × 1")) {
            try EnsembleSelection.select(outOfFold: [Matrix([[1], [2]]), Matrix([[1]])], actual: [1, 2], task: .regression)
        }
        #expect(throws: TestbedError(.invalidParameter, "row 1's class index 2 is not one of the 2 classes")) {
            try EnsembleSelection.select(outOfFold: [Matrix([[0.5, 0.5]])], actual: [2], task: .classification)
        }
        #expect(throws: TestbedError(.unsuitableData, "no row has an out-of-fold prediction from every candidate")) {
            try EnsembleSelection.select(outOfFold: [Matrix([[.nan]])], actual: [1], task: .regression)
        }
    }
}

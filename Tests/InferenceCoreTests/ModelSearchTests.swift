import Testing
@testable import InferenceCore

@Suite("--algorithm auto")
struct ModelSearchTests {
    @Test func leaderboardIsRankedOnThePrimaryMetricAndTheWinnerIsSaved() throws {
        let table = try TestData.table("Servo.csv", target: "Class")
        let spec = TrainingSpec(target: "Class", algorithm: .search(), seed: 2, folds: 5)
        let steps = StepLog()
        let model = try TrainedModel.train(table, spec: spec, progress: steps.record)
        let leaderboard = try #require(model.training.leaderboard)
        #expect(leaderboard.count == ModelSearch.candidates(for: .regression).count)
        #expect(steps.all.compactMap(\.finished).count == leaderboard.count)
        let fractions = steps.all.map(\.fraction)
        #expect(fractions == fractions.sorted() && fractions.first! >= 0 && fractions.last! <= 1)
        // Every fold of every candidate, then the winner's folds again (for importances), the
        // leakage checks, then the final fit.
        #expect(steps.all.count == leaderboard.count * 6 + 5 + 1 + 1)
        let scores = leaderboard.map { $0.metrics["rmse"]! }
        #expect(scores == scores.sorted())
        #expect(model.algorithm == leaderboard[0].algorithm && model.parameters == leaderboard[0].params)
        // The saved model's figures are the winner's cross-validated ones, not training-set ones.
        #expect(model.training.evaluation?.metrics == leaderboard[0].metrics)
        #expect(leaderboard.allSatisfy { $0.fitSeconds >= 0 && Set($0.metricsStd.keys) == ["rmse", "mae", "r2"] })
        #expect(Set(leaderboard.map(\.algorithm)) == ["ridge", "knn", "gbdt", "random_forest", "mlp"])
    }

    @Test func throwingFromProgressStopsTraining() throws {
        struct Stop: Error {}
        let table = try TestData.table("Glass.csv", target: "Type")
        let steps = StepLog()
        #expect(throws: Stop.self) {
            try TrainedModel.train(table, spec: TrainingSpec(target: "Type", algorithm: .search(), folds: 3)) { step in
                steps.record(step)
                if steps.all.count == 4 { throw Stop() }
            }
        }
        #expect(steps.all.count == 4)
    }

    @Test func aTinyBudgetStillFinishesOneCandidateAndSaysSo() throws {
        let table = try TestData.table("Glass.csv", target: "Type")
        let search = try ModelSearch(timeBudget: 1e-9).run(table, spec: TrainingSpec(target: "Type", algorithm: .search(), folds: 3))
        #expect(search.leaderboard.count == 1)
        #expect(search.notes.contains { $0.hasPrefix("the time budget of ") && $0.contains(" s ran out after 1 of 10 candidates; the best of those is used") })
        #expect(search.notes.contains("the time budget allowed only one candidate, logistic(C=0.1)"))
    }

    @Test func badBudgetAndFoldsAreRefused() throws {
        let table = try TestData.table("Glass.csv", target: "Type")
        #expect(throws: TestbedError(.invalidParameter, "time budget == 0 seconds, must be > 0")) {
            try ModelSearch(timeBudget: 0).run(table, spec: TrainingSpec(target: "Type"))
        }
        #expect(throws: TestbedError(.invalidParameter, "auto compares algorithms by cross-validation: folds == 0, must be >= 2")) {
            try TrainedModel.train(table, spec: TrainingSpec(target: "Type", algorithm: .search(), folds: 0))
        }
    }
}

/// Collects the steps a training run reports.
private final class StepLog {
    private(set) var all: [TrainingProgress] = []
    func record(_ step: TrainingProgress) { all.append(step) }
}

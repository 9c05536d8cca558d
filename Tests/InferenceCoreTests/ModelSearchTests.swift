import Testing
@testable import InferenceCore

@Suite("--algorithm auto")
struct ModelSearchTests {
    @Test func leaderboardIsRankedOnThePrimaryMetricAndTheWinnerIsSaved() throws {
        let table = try TestData.table("Servo.csv", target: "Class")
        let spec = TrainingSpec(target: "Class", algorithm: "auto", seed: 2, folds: 5)
        var progress: [String] = []
        let model = try TrainedModel.train(table, spec: spec, progress: { progress.append($0) })
        let leaderboard = try #require(model.training.leaderboard)
        #expect(leaderboard.count == ModelSearch.candidates(for: .regression).count)
        #expect(progress.count == leaderboard.count)
        let scores = leaderboard.map { $0.metrics["rmse"]! }
        #expect(scores == scores.sorted())
        #expect(model.algorithm == leaderboard[0].algorithm && model.parameters == leaderboard[0].params)
        // The saved model's figures are the winner's cross-validated ones, not training-set ones.
        #expect(model.training.evaluation?.metrics == leaderboard[0].metrics)
        #expect(leaderboard.allSatisfy { $0.fitSeconds >= 0 && Set($0.metricsStd.keys) == ["rmse", "mae", "r2"] })
        #expect(Set(leaderboard.map(\.algorithm)) == ["ridge", "knn", "gbdt", "random_forest", "mlp"])
    }

    @Test func aTinyBudgetStillFinishesOneCandidateAndSaysSo() throws {
        let table = try TestData.table("Glass.csv", target: "Type")
        let search = try ModelSearch(timeBudget: 1e-9).run(table, spec: TrainingSpec(target: "Type", folds: 3))
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
            try TrainedModel.train(table, spec: TrainingSpec(target: "Type", algorithm: "auto", folds: 0))
        }
    }
}

import Foundation
import Testing
@testable import InferenceCore

@Suite("--algorithm auto")
struct ModelSearchTests {
    @Test func leaderboardIsRankedOnThePrimaryMetricAndTheWinnerIsSaved() throws {
        let table = try TestData.table("Servo.csv", target: "Class")
        let spec = TrainingSpec(target: "Class", algorithm: .search(), seed: 2, folds: 5)
        let steps = StepLog()
        let model = try TrainedModel.train(table, spec: spec, timeBudget: 8, progress: steps.record)
        let leaderboard = try #require(model.training.leaderboard)
        // Every candidate reported as it finished; an ensemble of them is ranked among them after the search.
        #expect(steps.all.compactMap(\.finished).count == leaderboard.count - (model.ensemble == nil ? 0 : 1))
        let fractions = steps.all.map(\.fraction)
        #expect(fractions == fractions.sorted() && fractions.first! >= 0 && fractions.last! <= 1)
        let complete = leaderboard.filter(\.isComplete)
        let scores = complete.map { $0.metrics["rmse"]! }
        #expect(scores == scores.sorted())
        #expect(leaderboard.prefix(complete.count).allSatisfy { $0.isComplete }, "entries stopped early come after the evaluated ones")
        #expect(model.algorithm == leaderboard[0].algorithm && model.parameters == leaderboard[0].params)
        // The search saw four fifths of the rows; its winner's figure on the card is from the other fifth.
        let evaluation = try #require(model.training.evaluation)
        let outer = try #require(evaluation.outerHoldOut)
        #expect(outer.innerMetrics == leaderboard[0].metrics)
        #expect(outer.rows + outer.selectionRows == 167 && (33...34).contains(outer.rows))
        #expect(Set(outer.metrics.keys) == ["rmse", "mae", "r2"] && outer.reason.contains("never saw"))
        // The model's own cross-validation is on every row, for its intervals and importances.
        // A single winner is cross-validated again with importances; an ensemble of the candidates,
        // saved when it beats them, has its importances from the held-out rows.
        #expect(evaluation.folds == 5 && evaluation.importance != nil)
        #expect(complete.allSatisfy { $0.fitSeconds >= 0 && Set($0.metricsStd.keys) == ["rmse", "mae", "r2"] && $0.foldsEvaluated == 5 })
        // The whole regularization path is on the board, least squares included.
        #expect(complete.filter { $0.algorithm == "ridge" }.count == RidgePath.searchAlphas.count - 1)
        #expect(complete.contains { $0.algorithm == "linear" })
    }

    @Test func theOpeningGridIsTriedThenSettingsAreSampledUntilTheyStopImproving() throws {
        let table = try TestData.table("Servo.csv", target: "Class")
        let spec = TrainingSpec(target: "Class", algorithm: .search(), seed: 4, folds: 5)
        let search = try ModelSearch(timeBudget: 600, patience: 4).run(table, spec: spec)
        let tried = search.leaderboard.map { Candidate($0.algorithm, $0.params) }
        for candidate in ModelSearch.candidates(for: .regression) {
            let resolved = try AlgorithmRegistry.named(candidate.algorithm).resolve(candidate.parameters)
            #expect(tried.contains(Candidate(candidate.algorithm, resolved)), "\(ModelSearch.describe(candidate))")
        }
        #expect(search.leaderboard.count > ModelSearch.candidates(for: .regression).count, "settings were sampled after the grid")
        #expect(search.notes.contains { $0.contains("4 sampled settings in a row did not improve on") && $0.hasSuffix("more search is unlikely to help") })
        for entry in search.leaderboard where !entry.isComplete {
            #expect(entry.reason != nil && entry.foldsEvaluated! < 5 && entry.outcome != .evaluated)
        }
        #expect(search.outOfFold.count == search.leaderboard.filter(\.isComplete).count)
        #expect(search.leaderboard.contains { $0.algorithm == "gbdt" && $0.params["l2_regularization"] != 0 }, "gbdt's L2 is tuned")
    }

    @Test func aClearlyWorseSettingOfAFamilyAlreadyJudgedIsDiscardedAfterItsFirstFold() throws {
        let table = try TestData.table("Servo.csv", target: "Class")
        let spec = TrainingSpec(target: "Class", algorithm: .search(), seed: 1, folds: 5)
        var session = try SearchSession(table: table, spec: spec, task: .regression, budget: 600, progress: { _ in })
        #expect(session.discardReason([100]) == nil, "nothing to compare with yet")
        try session.evaluate(Candidate("gbdt", ["min_samples_leaf": 5, "max_leaf_nodes": 15]))
        #expect(session.discardReason([0.01]) == nil)
        let reason = try #require(session.discardReason([100]))
        #expect(reason.hasPrefix("rmse 100 on the first fold of 5, against ") && reason.hasSuffix("on the same folds"))
        // Predicting nearly the mean (k close to the row count) is far worse than boosted trees on
        // Servo; but a family's first candidate is judged on every fold, as one fold can mislead.
        try session.evaluate(Candidate("knn", ["k": 120]))
        try session.evaluate(Candidate("knn", ["k": 121]))
        let result = try session.result()
        let first = try #require(result.leaderboard.first { $0.algorithm == "knn" && $0.params["k"] == 120 })
        #expect(first.outcome == .evaluated && first.foldsEvaluated == 5)
        let discarded = try #require(result.leaderboard.last)
        #expect(discarded.algorithm == "knn" && discarded.params["k"] == 121 && discarded.outcome == .discarded && discarded.foldsEvaluated == 1)
        #expect(result.outOfFold.map(\.candidate.algorithm) == ["gbdt", "knn"])
    }

    @Test func theHeldOutRowsAreKeptFromTheSearchAndItsOutOfFoldRows() throws {
        let table = try TestData.table("Glass.csv", target: "Type")
        let spec = TrainingSpec(target: "Type", algorithm: .search(families: ["knn", "logistic"]), seed: 5, folds: 4)
        let choice = try ModelChoice(table, spec: spec, crossValidate: true, timeBudget: 5)
        let search = try #require(choice.search)
        #expect(Set(search.outOfFoldRows.rows).isDisjoint(with: search.holdOutRows))
        #expect((search.outOfFoldRows.rows + search.holdOutRows).sorted() == Array(0..<214))
        #expect(choice.evaluation?.outerHoldOut?.rows == search.holdOutRows.count)
    }

    @Test func aSmallTableKeepsTheInnerFiguresAndSaysSo() throws {
        let table = try TestData.table("Servo.csv", target: "Class").selectingRows(Array(0..<80))
        let spec = TrainingSpec(target: "Class", algorithm: .search(families: ["ridge", "knn"]), folds: 4)
        let choice = try ModelChoice(table, spec: spec, crossValidate: true, timeBudget: 5)
        #expect(choice.evaluation?.outerHoldOut == nil && choice.search?.holdOutRows.isEmpty == true)
        #expect(choice.notes.contains { $0.hasPrefix("the table has fewer than 100 rows, too few to hold some out") })
        #expect(choice.evaluation?.metrics == choice.leaderboard?.first?.metrics)
    }

    @Test func leaderboardEntriesFromOlderFilesStillDecode() throws {
        let old = #"{"algorithm":"ridge","params":{"alpha":1},"metrics":{"rmse":0.5},"metrics_std":{"rmse":0.1},"fit_seconds":0.01}"#
        let entry = try JSONDecoder().decode(LeaderboardEntry.self, from: Data(old.utf8))
        #expect(entry.outcome == nil && entry.isComplete && entry.foldsEvaluated == nil)
        let discarded = LeaderboardEntry(algorithm: "knn", params: ["k": 3], metrics: ["rmse": 1], metricsStd: ["rmse": 0], fitSeconds: 0.1,
                                         outcome: .discarded, foldsEvaluated: 1, reason: "worse")
        let text = String(decoding: try JSONEncoder().encode(discarded), as: UTF8.self)
        #expect(text.contains(#""outcome":"discarded""#) && text.contains(#""folds_evaluated":1"#))
        #expect(try JSONDecoder().decode(LeaderboardEntry.self, from: Data(text.utf8)) == discarded)
    }

    @Test(arguments: [("Glass.csv", "Type"), ("Servo.csv", "Class")])
    func outOfFoldPredictionsLineUpWithTheLeaderboard(file: String, target: String) throws {
        let table = try TestData.table(file, target: target)
        let search = try ModelSearch(timeBudget: 600, patience: 3).run(table, spec: TrainingSpec(target: target, algorithm: .search(families: ["knn", "ridge", "logistic"]), seed: 3, folds: 4))
        #expect(search.outOfFold.count >= 3)
        let rows = search.outOfFoldRows
        #expect(search.outOfFold.count == search.leaderboard.filter { $0.isComplete }.count)
        #expect(rows.folds.count == 4 && rows.rows.count == rows.actual.count && rows.tested.allSatisfy { $0 })
        #expect(rows.folds.flatMap(\.test).sorted() == Array(0..<rows.rows.count))
        for candidate in search.outOfFold {
            #expect(candidate.predictions.rows == rows.rows.count && candidate.predictions.columns == rows.predictedColumns)
            // Scoring the kept predictions again gives the leaderboard's figures: they are the ones the folds made.
            let again = rows.metrics(of: candidate.predictions)
            for (name, value) in candidate.metrics {
                #expect(abs(again[name]! - value) <= 1e-9 * max(1, abs(value)), "\(name)")
            }
            let entry = try #require(search.leaderboard.first { $0.algorithm == candidate.candidate.algorithm && $0.params == candidate.parameters })
            #expect(entry.metrics == candidate.metrics)
            if rows.task == .classification {
                for row in 0..<candidate.predictions.rows {
                    #expect(abs(candidate.predictions.row(row).reduce(0, +) - 1) < 1e-9)
                }
            }
        }
    }

    /// Glass: k-NN, the forest and gbdt err on different rows, so a weighted average of them beats
    /// each; auto saves that ensemble, and its card figure, as a single winner's, is from the
    /// rows the search never saw, scored as the ensemble predicts.
    @Test func autoSavesAnEnsembleOfTheCandidatesWhenItBeatsTheBest() throws {
        let table = try TestData.table("Glass.csv", target: "Type")
        let spec = TrainingSpec(target: "Type", algorithm: .search(families: ["knn", "random_forest", "gbdt"]), seed: 3, folds: 5)
        let model = try TrainedModel.train(table, spec: spec, timeBudget: 20)
        let ensemble = try #require(model.ensemble, "auto saved \(model.algorithm), not an ensemble")
        let leaderboard = try #require(model.training.leaderboard)
        #expect(leaderboard[0].algorithm == "ensemble")
        let best = leaderboard.dropFirst().filter(\.isComplete).map { $0.metrics["accuracy"]! }.max()!
        #expect(leaderboard[0].metrics["accuracy"]! > best)
        #expect(ensemble.members.count >= 2 && abs(ensemble.members.reduce(0) { $0 + $1.weight } - 1) < 1e-12)
        let outer = try #require(model.training.evaluation?.outerHoldOut)
        #expect(outer.rows + outer.selectionRows == 214 && outer.reason.contains("the ensemble"))
        #expect(outer.innerMetrics == leaderboard[0].metrics)
        // Scored as it predicts: the members fitted on the search's rows, averaged with their weights.
        let rows = try #require(OuterHoldOut.split(PreparedData(table, spec: TrainingSpec(target: "Type")), seed: spec.seed))
        let members = try ensemble.members.map { member in
            let prepared = try PreparedData(table, spec: TrainingSpec(target: "Type", algorithm: .named(member.algorithm), parameters: member.parameters, seed: 3, folds: 5))
            return (prepared: prepared, parameters: member.parameters, weight: member.weight)
        }
        let again = try OuterHoldOut.measure(ensemble: members, seed: spec.seed, selection: rows.selection, holdOut: rows.holdOut, innerMetrics: outer.innerMetrics)
        #expect(again.holdOut.metrics == outer.metrics)
        // Importances from the same rows: every feature once, the largest first, and some feature matters.
        let importance = try #require(model.training.evaluation?.importance)
        #expect(importance == again.importance)
        #expect(Set(importance.map(\.feature)) == Set(model.features.map(\.name)) && importance.count == model.features.count)
        #expect(importance.map(\.permutation) == importance.map(\.permutation).sorted(by: >) && importance[0].permutation > 0)
    }

    /// The budget sets deadlines after the search; one far beyond any run (the command line takes
    /// any finite number) must not overflow when the time left is counted in shuffles.
    @Test func aBudgetFarBeyondAnyRunIsCountedWithoutOverflow() throws {
        let table = try TestData.table("Servo.csv", target: "Class")
        let model = try TrainedModel.train(table, spec: TrainingSpec(target: "Class", algorithm: .search(), seed: 0, folds: 5), timeBudget: 1e300)
        #expect(model.training.evaluation?.outerHoldOut != nil)
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

    @Test func aTinyBudgetStillFinishesTheCheapestCandidatesAndSaysSo() throws {
        let table = try TestData.table("Glass.csv", target: "Type")
        let search = try ModelSearch(timeBudget: 1e-9).run(table, spec: TrainingSpec(target: "Type", algorithm: .search(), folds: 3))
        // The cheapest unit is logistic regression's whole path over C: one fit per fold gives every C.
        #expect(search.leaderboard.map(\.algorithm) == Array(repeating: "logistic", count: LogisticRegression.searchCs.count))
        #expect(search.notes.contains { $0.hasPrefix("the time budget of ") && $0.contains(" s ran out during the opening grid after 7 candidates") })
        #expect(search.notes.contains { $0.hasPrefix("the time budget allowed only the cheapest candidates, the linear regularization path") })
        #expect(search.winner.algorithm == "logistic")
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

import Foundation
import Testing
@testable import InferenceCore

@Suite("The ensemble family")
struct EnsembleModelTests {
    /// Real tables of both tasks, two and six classes, with missing cells (Pima) and categories (churn is too large for a test).
    static let datasets: [(dataset: String, target: String)] = [
        ("Servo.csv", "Class"), ("Glass.csv", "Type"), ("PimaIndiansDiabetes2.csv", "diabetes"),
    ]

    /// The ensemble's pooled out-of-fold score is at least the best member's, and its evaluation
    /// is that of the weighted average of the members' out-of-fold predictions.
    @Test("Beats the best single candidate out of fold", arguments: datasets)
    func beatsTheBestCandidate(_ dataset: String, _ target: String) throws {
        let data = try EnsembleData(dataset, target: target, families: ["ridge", "logistic", "knn", "gbdt", "random_forest"])
        let model = try #require(data.model, "no ensemble on \(dataset): \(data.selection)")
        let ensemble = try #require(model.ensemble)
        #expect(model.algorithm == Ensemble.familyName && model.parameters.isEmpty)
        #expect(data.selection.score < data.selection.bestSingleScore)
        #expect(ensemble.members.count >= 2 && isClose(ensemble.members.reduce(0) { $0 + $1.weight }, 1, tolerance: 1e-12))
        #expect(ensemble.members.map(\.weight) == ensemble.members.map(\.weight).sorted(by: >))

        // Every candidate's pooled out-of-fold score, and the ensemble's, from the arrays alone.
        let actual = try PreparedData(data.table, spec: TrainingSpec(target: target)).target.values
        var average = Matrix(rows: actual.count, columns: data.outOfFold[0].columns)
        for member in data.selection.members {
            for i in average.storage.indices { average.storage[i] += member.weight * data.outOfFold[member.candidate].storage[i] }
        }
        let scores = data.outOfFold.map { EnsembleSelection.score($0.storage, divisor: 1, actual: actual, width: $0.columns, task: model.task) }
        let ensembleScore = EnsembleSelection.score(average.storage, divisor: 1, actual: actual, width: average.columns, task: model.task)
        #expect(scores.allSatisfy { ensembleScore < $0 }, "\(ensembleScore) against \(scores)")
        print("\(dataset): ensemble \(ensembleScore) of \(data.selection.members.map { "\(ModelSearch.describe(data.candidates[$0.candidate])) × \($0.weight)" }); candidates \(zip(data.candidates, scores).map { "\(ModelSearch.describe($0)): \($1)" })")

        // Its cross-validation figures are those of the averaged out-of-fold predictions.
        let evaluation = try #require(model.training.evaluation)
        #expect(evaluation.folds == 5 && evaluation.validation?.scheme == .random)
        switch model.task {
        case .regression:
            let rmse = RegressionMetrics.compute(actual: actual, predicted: average.storage)["rmse"]!
            #expect(isClose(rmse, ensembleScore.primary, tolerance: 1e-12))
            let residuals = zip(actual, average.storage).map { abs($0 - $1) }
            #expect(evaluation.conformal?.halfWidth == ConformalCalibration.quantile(residuals, coverage: 0.9))
        case .classification:
            let labels = actual.map { Int($0) }
            #expect(evaluation.confusionMatrix?.joined().reduce(0, +) == actual.count)
            let accuracy = ClassificationMetrics.compute(actual: labels, probabilities: average)["accuracy"]!
            #expect(isClose(accuracy, -ensembleScore.primary, tolerance: 1e-12))
            let scores = labels.indices.map { 1 - average[$0, labels[$0]] }
            #expect(evaluation.conformal.map { isClose($0.minimumProbability!, 1 - ConformalCalibration.quantile(scores, coverage: 0.9)!, tolerance: 1e-12) } == true)
        }
        #expect(model.training.driftReference != nil)
    }

    /// Predictions are the weighted average of the members trained alone, to 1e-12, and survive
    /// a save and a load bit for bit.
    @Test("Predicts the weighted average of its members", arguments: datasets)
    func predictsTheWeightedAverage(_ dataset: String, _ target: String) throws {
        let data = try EnsembleData(dataset, target: target, families: ["ridge", "logistic", "knn", "gbdt", "random_forest"])
        let model = try #require(data.model)
        let predictions = try model.predict(data.table)
        let singles = try data.selection.members.map { (try data.single(data.candidates[$0.candidate]).predict(data.table), $0.weight) }
        switch model.task {
        case .regression:
            let expected = (0..<data.table.rowCount).map { row in singles.reduce(0) { $0 + $1.1 * $1.0.values[row] } }
            #expect(maxRelativeError(predictions.values, expected) <= 1e-12)
            let intervals = try #require(predictions.intervals)
            let halfWidth = try #require(model.training.evaluation?.conformal?.halfWidth)
            #expect(zip(intervals, predictions.values).allSatisfy { $0.lower == $1 - halfWidth && $0.upper == $1 + halfWidth })
        case .classification:
            let probabilities = try #require(predictions.probabilities)
            var expected = Matrix(rows: probabilities.rows, columns: probabilities.columns)
            for (single, weight) in singles {
                for i in expected.storage.indices { expected.storage[i] += weight * single.probabilities!.storage[i] }
            }
            #expect(maxRelativeError(probabilities.storage, expected.storage) <= 1e-12)
            #expect(predictions.values.map { Int($0) } == ClassificationMetrics.predictedClasses(probabilities))
            #expect(predictions.predictionSets?.count == data.table.rowCount)
        }

        let reloaded = try TrainedModel(jsonData: model.jsonData())
        #expect(reloaded.ensemble?.members.map(\.algorithm) == model.ensemble?.members.map(\.algorithm))
        let again = try reloaded.predict(data.table)
        #expect(again.values == predictions.values && again.probabilities == predictions.probabilities)
        let document = try JSONSerialization.jsonObject(with: model.jsonData()) as! [String: Any]
        #expect(document["model"] == nil && document["preprocessing"] == nil)
        let members = try #require((document["ensemble"] as? [String: Any])?["members"] as? [[String: Any]])
        #expect(members.allSatisfy { Set($0.keys) == ["algorithm", "parameters", "weight", "preprocessing", "model"] })
    }

    /// When every member is explainable on one scale, the contributions are the weighted sums of
    /// the members' (each explaining the ensemble's predicted class).
    @Test func explanationsAreTheWeightedSumsOfTheMembers() throws {
        for (dataset, target, families) in [("Servo.csv", "Class", Set(["ridge", "gbdt", "random_forest"])),
                                            ("PimaIndiansDiabetes2.csv", "diabetes", Set(["logistic", "gbdt"]))] {
            let data = try EnsembleData(dataset, target: target, families: families)
            let model = try #require(data.model, "no ensemble of \(families.sorted()) on \(dataset)")
            #expect(model.isExplainable)
            let predictions = try model.predict(data.table)
            let explanation = try model.explain(data.table, predictions: predictions)
            var contributions = Matrix(rows: data.table.rowCount, columns: model.features.count)
            var base = [Double](repeating: 0, count: data.table.rowCount)
            for member in data.selection.members {
                let single = try data.single(data.candidates[member.candidate])
                // The member explains the ensemble's predicted class, not its own.
                let own = try single.explain(data.table, predictions: predictions)
                #expect(own.scale == explanation.scale)
                for i in contributions.storage.indices { contributions.storage[i] += member.weight * own.contributions.storage[i] }
                for row in base.indices { base[row] += member.weight * own.base[row] }
            }
            #expect(maxRelativeError(explanation.contributions.storage, contributions.storage) <= 1e-12)
            #expect(maxRelativeError(explanation.base, base) <= 1e-12)
            if model.task == .regression {
                // Values add up: base plus contributions is the prediction.
                let totals = (0..<base.count).map { explanation.base[$0] + explanation.contributions.row($0).reduce(0, +) }
                #expect(maxRelativeError(totals, predictions.values) <= 1e-9)
            }
        }
    }

    @Test func anEnsembleWithAMemberThatCannotExplainRefusesToExplain() throws {
        let data = try EnsembleData("Servo.csv", target: "Class", families: ["ridge", "knn", "gbdt"])
        let model = try data.ensemble(["ridge": 0.25, "knn": 0.25, "gbdt": 0.5])
        #expect(!model.isExplainable)
        let predictions = try model.predict(data.table)
        #expect(throws: TestbedError(.unsupported, "this ensemble has no per-prediction contributions: its member knn has none, and an ensemble is explained only when every member is of a family that has them: linear, ridge, logistic, gbdt, random_forest")) {
            try model.explain(data.table, predictions: predictions)
        }
    }

    @Test func anEnsembleOfMembersOnDifferentScalesRefusesToExplain() throws {
        let data = try EnsembleData("Glass.csv", target: "Type", families: ["gbdt", "random_forest"])
        let model = try data.ensemble(["gbdt": 0.5, "random_forest": 0.5])
        #expect(model.explanationRefusal?.hasPrefix("this ensemble has no per-prediction contributions: its members' contributions are on different scales (") == true)
        #expect(model.explanationRefusal?.contains("random_forest: probability") == true && model.explanationRefusal?.contains("gbdt: log_odds") == true)
    }

    @Test func onnxExportIsRefusedNamingTheFamily() throws {
        let data = try EnsembleData("Servo.csv", target: "Class", families: ["ridge", "gbdt"])
        let model = try data.ensemble(["ridge": 0.5, "gbdt": 0.5])
        let error = try #require(throws: TestbedError.self) { try ExportFormat.onnx.export(model) }
        #expect(error.code == .unsupported)
        #expect(error.message.hasPrefix("models of the family 'ensemble' cannot be exported to ONNX: this one averages 2 models ("))
    }

    @Test func noEnsembleWhenItDoesNotBeatTheBestCandidate() throws {
        let data = try EnsembleData("Servo.csv", target: "Class", families: ["gbdt"])
        #expect(data.model == nil && !data.selection.improves && data.selection.weights == [1])
    }

    @Test func theLeaderboardGetsTheEnsembleInItsRank() throws {
        let data = try EnsembleData("Servo.csv", target: "Class", families: ["ridge", "gbdt"])
        let leaderboard = [LeaderboardEntry(algorithm: "gbdt", params: ["x": 1], metrics: ["rmse": 1e-9], metricsStd: [:], fitSeconds: 2),
                           LeaderboardEntry(algorithm: "ridge", params: ["alpha": 1], metrics: ["rmse": 1e9], metricsStd: [:], fitSeconds: 1)]
        let model = try TrainedModel.ensemble(of: [(data.candidates[0], 0.5), (data.candidates[1], 0.5)], outOfFold: data.outOfFold,
                                              table: data.table, spec: data.spec, leaderboard: leaderboard, warnings: ["a warning"])
        let ranked = try #require(model.training.leaderboard)
        #expect(ranked.map(\.algorithm) == ["gbdt", "ensemble", "ridge"])
        #expect(ranked[1].metrics == model.training.evaluation?.metrics && ranked[1].fitSeconds == 1)
        #expect(model.training.warnings == ["a warning"])
    }

    /// A search may hand over the rows and folds its predictions were made on: the same rows
    /// and folds give the same figures, and rows without their folds are refused.
    @Test func givenRowsAndFoldsGiveTheSameFigures() throws {
        let data = try EnsembleData("Servo.csv", target: "Class", families: ["ridge", "gbdt"])
        let members = [(data.candidates[0], 0.5), (data.candidates[1], 0.5)]
        let prepared = try PreparedData(data.table, spec: data.spec)
        let (folds, _) = try FoldSplitter(plan: prepared.plan, seed: data.spec.seed).split(prepared.target, table: prepared.table)
        let rows = Array(0..<prepared.target.values.count)
        let given = try TrainedModel.ensemble(of: members, outOfFold: data.outOfFold, rows: rows, folds: folds, table: data.table, spec: data.spec)
        let inferred = try TrainedModel.ensemble(of: members, outOfFold: data.outOfFold, table: data.table, spec: data.spec)
        #expect(given.training.evaluation == inferred.training.evaluation)
        #expect(throws: TestbedError(.invalidParameter, "out-of-fold predictions of some rows need the folds they were made on")) {
            try TrainedModel.ensemble(of: members, outOfFold: data.outOfFold, rows: rows, table: data.table, spec: data.spec)
        }
        #expect(throws: TestbedError(.invalidParameter, "ensemble weights 0.5, 0.6 must be > 0 and sum to 1")) {
            try TrainedModel.ensemble(of: [(data.candidates[0], 0.5), (data.candidates[1], 0.6)], outOfFold: data.outOfFold, table: data.table, spec: data.spec)
        }
    }
}

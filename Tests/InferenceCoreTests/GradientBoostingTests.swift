import Testing
@testable import InferenceCore

@Suite("Gradient-boosted trees")
struct GradientBoostingTests {
    @Test func missingValuesFollowTheLearnedDirection() throws {
        // y is high exactly where x is missing: the split must send missing values to the high side.
        var rows: [[String?]] = []
        for index in 0..<120 { rows.append(index % 3 == 0 ? [nil, "100"] : ["\(index % 40)", "\(index % 5)"]) }
        let table = DataTable(names: ["x", "y"], rows: rows)
        let model = try TrainedModel.train(table, spec: TrainingSpec(target: "y", task: .regression, algorithm: .named("gbdt"), folds: 0))
        let predictions = try model.predict(DataTable(names: ["x"], rows: [[nil], ["7"]]))
        #expect(predictions.values[0] > 90)
        #expect(predictions.values[1] < 10)
        #expect(predictions.warnings[0] == ["x: missing value sent the way training learned for missing values"])
    }

    /// LightGBM's feature_fraction: each tree splits only on its own draw of the features, the
    /// draws differ between trees and repeat for a seed, and a fraction of 1 is the plain model.
    @Test func eachTreeSplitsOnItsShareOfTheFeatures() throws {
        let design = try TestData.design("Vehicle.csv", target: "Class", exclude: [])
        let x = design.matrix
        func fit(_ parameters: Hyperparameters, seed: UInt64 = 1) throws -> BoostedTrees {
            try #require(try GradientBoosting.algorithm.fit(x, design.target, parameters: GradientBoosting.algorithm.resolve(parameters), seed: seed) as? BoostedTrees)
        }
        let perTree = Int((0.25 * Double(x.columns)).rounded())
        let sampled = try fit(["feature_fraction": 0.25, "max_iter": 20])
        let used = sampled.trees.map { Set($0.feature.filter { $0 >= 0 }) }
        #expect(used.allSatisfy { !$0.isEmpty && $0.count <= perTree })
        #expect(Set(used).count > 1, "every tree split on the same features")
        #expect(Set(sampled.trees.flatMap { $0.feature.filter { $0 >= 0 } }).count > perTree)
        let again = try fit(["feature_fraction": 0.25, "max_iter": 20])
        #expect(again.predict(x).storage == sampled.predict(x).storage)
        let whole = try fit(["max_iter": 20]), explicit = try fit(["feature_fraction": 1, "max_iter": 20])
        #expect(whole.predict(x).storage == explicit.predict(x).storage)
        #expect(throws: TestbedError.self) { try GradientBoosting.algorithm.resolve(["feature_fraction": 0]) }
    }

    @Test func earlyStoppingHoldsOutRowsAndStops() throws {
        let design = try TestData.design("Vehicle.csv", target: "Class", exclude: [])
        let x = design.matrix
        let parameters = try GradientBoosting.algorithm.resolve(["early_stopping": 1, "max_iter": 300, "learning_rate": 0.3])
        let model = try #require(try GradientBoosting.algorithm.fit(x, design.target, parameters: parameters, seed: 1) as? BoostedTrees)
        #expect(model.trees.count % 4 == 0)
        #expect(model.trees.count < 300 * 4, "early stopping should stop before 300 rounds")
        let accuracy = ClassificationMetrics.compute(actual: design.target.classIndices, probabilities: model.predict(x))["accuracy"]!
        #expect(accuracy > 0.8)
    }

    /// A class of three rows, single-row leaves and no L2 penalty: the setting in which tiny
    /// hessians give LightGBM's defaults huge leaf values. Ours stay bounded and finite.
    @Test func rareClassCannotBlowUp() throws {
        let glass = try TestData.table("Glass.csv", target: "Type")
        let type = try glass.column(named: "Type").values
        var keptSix = 0
        let rows = (0..<glass.rowCount).filter { row in
            guard type.text(at: row) == "6" else { return true }
            keptSix += 1
            return keptSix <= 3
        }
        let table = glass.selectingRows(rows)
        let spec = TrainingSpec(target: "Type", algorithm: .named("gbdt"), parameters: ["min_samples_leaf": 1, "l2_regularization": 0, "max_iter": 200], folds: 0)
        let model = try TrainedModel.train(table, spec: spec)
        let trees = try #require(model.model as? BoostedTrees).trees
        let largest = trees.flatMap(\.value).map(abs).max() ?? 0
        #expect(largest <= GradientBoosting.maxClassificationLeafOutput * 0.1 + 1e-12)
        let probabilities = try #require(try model.predict(table).probabilities)
        #expect(probabilities.storage.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        let logLoss = ClassificationMetrics.logLoss(actual: try Target(table.column(named: "Type"), task: nil).classIndices, probabilities: probabilities)
        #expect(logLoss.isFinite && logLoss < 0.5)
    }
}

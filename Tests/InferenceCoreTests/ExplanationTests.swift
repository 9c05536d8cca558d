import Foundation
import Testing
@testable import InferenceCore

@Suite("Explanations and importances")
struct ExplanationTests {
    /// Every explainable family on a real table of each task it learns.
    static let cases = ModelContractTests.cases.filter { ["linear", "ridge", "logistic", "gbdt", "random_forest"].contains($0.algorithm) }

    @Test("Contributions add up to the model's output on real data", arguments: cases)
    func contributionsAddUp(_ algorithm: String, _ dataset: String, _ target: String) throws {
        let parameters = ModelContractTests.quickParameters[algorithm] ?? [:]
        let trained = try TrainedModel.train(TestData.table(dataset, target: target),
                                             spec: TrainingSpec(target: target, algorithm: .named(algorithm), parameters: parameters, seed: 3, folds: 0))
        let table = try TestData.table(dataset, target: target)
        let x = try trained.preprocessor.transform(table)
        let explainable = try #require(trained.model as? any ExplainableModel)
        let contributions = explainable.contributions(x)
        let output = trained.model.predict(x)
        for row in 0..<x.rows {
            let scores = (0..<contributions.outputs).map { contributions.base[$0] + contributions.contributions(row: row, output: $0).reduce(0, +) }
            let expected: [Double]
            switch contributions.scale {
            case .value, .probability: expected = scores
            case .logOdds where scores.count == 1: expected = [1 - Sigmoid.value(scores[0]), Sigmoid.value(scores[0])]
            case .logOdds:
                var probabilities = scores
                probabilities.withUnsafeMutableBufferPointer { _ = Softmax.normalize($0) }
                expected = probabilities
            }
            #expect(maxRelativeError(output.row(row), expected) < 1e-9, "row \(row)")
        }

        // Grouped by feature for the predicted class, as `predict --explain` shows them.
        let predictions = try trained.predict(table)
        let explanation = try trained.explain(table, predictions: predictions)
        #expect(explanation.features == trained.features.map(\.name))
        for row in 0..<x.rows {
            let total = explanation.base[row] + explanation.contributions.row(row).reduce(0, +)
            let predicted = Int(predictions.values[row])
            let score: Double
            switch (trained.task, contributions.scale) {
            case (.regression, _): score = predictions.values[row]
            case (_, .probability): score = predictions.probabilities![row, predicted]
            default:
                let p = predictions.probabilities!
                // The log-odds of the predicted class with two classes, its softmax score up to a shift with more.
                score = p.columns == 2 ? log(p[row, predicted] / p[row, 1 - predicted])
                                       : contributions.base[predicted] + contributions.contributions(row: row, output: predicted).reduce(0, +)
            }
            #expect(isClose(total, score, tolerance: 1e-8), "row \(row): \(total) vs \(score)")
        }
    }

    /// Path-dependent TreeSHAP must equal the Shapley values of the game in which a coalition's
    /// value is the tree's output with the absent features integrated out by cover. Checked by
    /// enumerating every coalition of Servo's four features.
    @Test func treeSHAPEqualsBruteForceShapleyValues() throws {
        let design = try TestData.design("Servo.csv", target: "Class", exclude: [])
        let forest = RandomForest.fit(design.matrix, design.target, parameters: try RandomForest.algorithm.resolve(["n_estimators": 3, "max_depth": 6]), seed: 5)
        let columns = design.matrix.columns
        for tree in forest.trees {
            for row in stride(from: 0, to: design.matrix.rows, by: 17) {
                let input = design.matrix.row(row)
                var phi = [Double](repeating: 0, count: columns)
                let workspace = TreeSHAP.Workspace(depth: tree.depth)
                defer { workspace.deallocate() }
                input.withUnsafeBufferPointer { input in
                    phi.withUnsafeMutableBufferPointer { TreeSHAP.add(tree, row: input.baseAddress!, width: columns, scale: 1, into: $0.baseAddress!, workspace: workspace) }
                }
                #expect(maxRelativeError(phi, bruteForceShapley(tree, input)) < 1e-10)
            }
        }
    }

    /// Exact Shapley values over all coalitions of the encoded columns (exponential; small trees only).
    private func bruteForceShapley(_ tree: FlatTree, _ input: [Double]) -> [Double] {
        let used = Array(Set(tree.feature.filter { $0 >= 0 }.map(Int.init))).sorted()
        func value(_ coalition: Set<Int>, _ node: Int = 0) -> Double {
            guard tree.feature[node] >= 0 else { return tree.value[node] }
            if coalition.contains(Int(tree.feature[node])) {
                return value(coalition, tree.childByArrays(node, input[Int(tree.feature[node])]))
            }
            let (left, right) = (Int(tree.left[node]), Int(tree.right[node]))
            return (tree.cover[left] * value(coalition, left) + tree.cover[right] * value(coalition, right)) / tree.cover[node]
        }
        var phi = [Double](repeating: 0, count: input.count)
        let m = used.count
        func factorial(_ n: Int) -> Double { n < 2 ? 1 : (2...n).reduce(1.0) { $0 * Double($1) } }
        for (position, feature) in used.enumerated() {
            let others = used.enumerated().filter { $0.offset != position }.map(\.element)
            for mask in 0..<(1 << others.count) {
                let coalition = Set(others.indices.filter { mask & (1 << $0) != 0 }.map { others[$0] })
                let weight = factorial(coalition.count) * factorial(m - coalition.count - 1) / factorial(m)
                phi[feature] += weight * (value(coalition.union([feature])) - value(coalition))
            }
        }
        return phi
    }

    @Test func modelsWithoutContributionsSaySo() throws {
        let trained = try TrainedModel.train(TestData.table("Servo.csv", target: "Class"),
                                             spec: TrainingSpec(target: "Class", algorithm: .named("knn"), folds: 0))
        let table = try TestData.table("Servo.csv", target: "Class")
        let error = try #require(throws: TestbedError.self) { try trained.explain(table, predictions: trained.predict(table)) }
        #expect(error.code == .unsupported)
        #expect(error.message.hasPrefix("knn models have no per-prediction contributions"))
    }

    /// A column of noise added to a real table must come out as unimportant, both by permutation
    /// and by gain, and gain shares must sum to 1.
    @Test(arguments: ["gbdt", "random_forest", "ridge", "knn", "mlp"])
    func importanceSeparatesSignalFromNoise(_ algorithm: String) throws {
        var table = try TestData.table("biomass.csv", target: "HHV")
        var generator = SeededGenerator(seed: 9)
        let noise = (0..<table.rowCount).map { _ in Double(generator.next() % 1000) / 1000 }
        table = DataTable(columns: table.columns + [Column(name: "noise", values: .numeric(noise))])
        let spec = TrainingSpec(target: "HHV", algorithm: .named(algorithm), parameters: ModelContractTests.quickParameters[algorithm] ?? [:],
                                seed: 1, folds: 5, excludedColumns: ["sample", "dataset"])
        let prepared = try PreparedData(table, spec: spec)
        let result = try prepared.crossValidate(plan: .random(folds: 5), parameters: prepared.algorithm.resolve(spec.parameters), seed: 1, importance: true)
        let importance = try #require(result.importance)
        #expect(Set(importance.map(\.feature)) == ["carbon", "hydrogen", "oxygen", "nitrogen", "sulfur", "noise"])
        let top = importance[0].permutation
        let noiseEntry = try #require(importance.first { $0.feature == "noise" })
        #expect(top > 0.2, "the most important feature should raise the RMSE clearly: \(importance)")
        #expect(abs(noiseEntry.permutation) < 0.1 * top, "noise: \(noiseEntry)")
        if algorithm == "gbdt" || algorithm == "random_forest" {
            let gains = importance.compactMap(\.gain)
            #expect(gains.count == 6 && isClose(gains.reduce(0, +), 1, tolerance: 1e-9))
            #expect(noiseEntry.gain! < gains.max()! / 3)
        } else {
            #expect(importance.allSatisfy { $0.gain == nil })
        }
    }
}

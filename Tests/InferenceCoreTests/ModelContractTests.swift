import Foundation
import Testing
@testable import InferenceCore

/// One suite of checks that every model family passes, as scikit-learn's `parametrize_with_checks`.
@Suite("Every algorithm")
struct ModelContractTests {
    /// A real dataset for each task an algorithm can learn.
    static let cases: [(algorithm: String, dataset: String, target: String)] = AlgorithmRegistry.all.flatMap { algorithm in
        algorithm.tasks.sorted { $0.rawValue < $1.rawValue }.flatMap { task -> [(String, String, String)] in
            task == .regression
                ? [(algorithm.name, "Servo.csv", "Class"), (algorithm.name, "Ozone.csv", "V4")]
                : [(algorithm.name, "Ionosphere.csv", "Class"), (algorithm.name, "Glass.csv", "Type")]
        }
    }

    /// Smaller settings where the defaults are slow in a debug build; the contract is the same.
    static let quickParameters: [String: Hyperparameters] = [
        "gbdt": ["max_iter": 10], "random_forest": ["n_estimators": 10], "mlp": ["max_iter": 20],
    ]

    func trained(_ algorithm: String, _ dataset: String, _ target: String, folds: Int = 0) throws -> TrainedModel {
        try TrainedModel.train(TestData.table(dataset, target: target),
                               spec: TrainingSpec(target: target, algorithm: .named(algorithm), parameters: Self.quickParameters[algorithm] ?? [:],
                                                  seed: 1, folds: folds))
    }

    @Test("Output shape: one value per row, or one probability per class summing to 1", arguments: cases)
    func shapes(_ algorithm: String, _ dataset: String, _ target: String) throws {
        let model = try trained(algorithm, dataset, target)
        let table = try TestData.table(dataset, target: target)
        let predictions = try model.predict(table)
        #expect(predictions.values.count == table.rowCount)
        if model.task == .classification {
            let probabilities = try #require(predictions.probabilities)
            #expect(probabilities.columns == model.classes.count)
            for row in 0..<probabilities.rows {
                #expect(isClose(probabilities.row(row).reduce(0, +), 1, tolerance: 1e-12))
            }
        }
        #expect(predictions.values.allSatisfy { $0.isFinite })
    }

    @Test("Refitting with the same seed gives the same model", arguments: cases)
    func refitIsDeterministic(_ algorithm: String, _ dataset: String, _ target: String) throws {
        let first = try trained(algorithm, dataset, target, folds: 3)
        let second = try trained(algorithm, dataset, target, folds: 3)
        let table = try TestData.table(dataset, target: target)
        #expect(try first.predict(table).values == second.predict(table).values)
        #expect(first.training.evaluation == second.training.evaluation)
    }

    @Test("Saving and loading gives bit-identical predictions", arguments: cases)
    func fileRoundTrip(_ algorithm: String, _ dataset: String, _ target: String) throws {
        let model = try trained(algorithm, dataset, target)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.save(to: path)
        let loaded = try TrainedModel.load(from: path)
        let table = try TestData.table(dataset, target: target)
        let (before, after) = (try model.predict(table), try loaded.predict(table))
        #expect(before.values.map(\.bitPattern) == after.values.map(\.bitPattern))
        #expect(before.probabilities?.storage.map(\.bitPattern) == after.probabilities?.storage.map(\.bitPattern))
        #expect(loaded.preprocessor == model.preprocessor && loaded.training == model.training)
    }

    @Test("A wrong number of input columns is refused", arguments: cases)
    func wrongFeatureCount(_ algorithm: String, _ dataset: String, _ target: String) throws {
        let model = try trained(algorithm, dataset, target)
        let error = try #require(throws: TestbedError.self) {
            try model.model.checkedPredict(Matrix(rows: 2, columns: model.preprocessor.width + 1))
        }
        #expect(error.code == .shapeMismatch)
        #expect(error.message == "the input has \(model.preprocessor.width + 1) feature columns, but the model was trained on \(model.preprocessor.width)")
    }

    @Test func outOfRangeParameterNamesTheParameterValueAndRange() throws {
        let design = try TestData.design("Servo.csv", target: "Class", exclude: [])
        #expect(throws: TestbedError(.invalidParameter, "ridge: alpha == -1, must be >= 0")) {
            try RidgeRegression.algorithm.fit(design.matrix, design.target, parameters: ["alpha": -1])
        }
        #expect(throws: TestbedError(.invalidParameter, "logistic: C == 0, must be > 0")) {
            try LogisticRegression.algorithm.resolve(["C": 0])
        }
        #expect(throws: TestbedError(.invalidParameter, "ridge has no parameter 'C'; its parameters are: alpha")) {
            try RidgeRegression.algorithm.resolve(["C": 1])
        }
    }

    @Test func algorithmMustFitTheTask() throws {
        let table = try TestData.table("Glass.csv", target: "Type")
        #expect(throws: TestbedError(.unknownAlgorithm, "ridge does not do classification; algorithms for classification: logistic, knn, gbdt, random_forest, mlp")) {
            try PreparedData(table, spec: TrainingSpec(target: "Type", algorithm: .named("ridge")))
        }
        #expect(throws: TestbedError(.unknownAlgorithm, "unknown algorithm 'xgboost'; known algorithms: linear, ridge, logistic, knn, gbdt, random_forest, mlp")) {
            try AlgorithmRegistry.named("xgboost")
        }
    }
}

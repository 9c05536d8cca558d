import Foundation
import InferenceCore

/// The models the `tensor` and `predict` targets score with: one or more of each family and
/// task, so that every predictor and explainer sees the fuzzer's tables.
///
/// The demonstration models in `models/` are loaded as shipped; the families and tasks they lack
/// are trained once at start-up on a few rows of the bundled datasets, with small settings so
/// that start-up takes seconds. Paths are relative to the repository root (the current
/// directory as `scripts/fuzz.sh` runs it, or the one the tests give).
enum FuzzModels {
    /// A model to train: the dataset, how many of its first rows, the target, the family and
    /// settings that keep it small.
    struct Recipe {
        var dataset: String
        var rows: Int
        var target: String
        var algorithm: String
        var parameters: Hyperparameters = [:]
        var missingIndicators = false
    }

    static let demoModels = ["models/oil-type.json", "models/servo-rise-time.json", "models/glass-type.json", "models/rail-ridership.json"]

    /// Servo: regression with text features; Glass: several integer classes; Pima: two text
    /// classes with missing cells; churn: two classes with many text features.
    static let recipes: [Recipe] = [
        Recipe(dataset: "Servo.csv", rows: 167, target: "Class", algorithm: "linear"),
        Recipe(dataset: "Servo.csv", rows: 167, target: "Class", algorithm: "ridge"),
        Recipe(dataset: "Servo.csv", rows: 167, target: "Class", algorithm: "knn", parameters: ["k": 3]),
        Recipe(dataset: "Servo.csv", rows: 167, target: "Class", algorithm: "random_forest", parameters: ["n_estimators": 5, "max_depth": 4]),
        Recipe(dataset: "Servo.csv", rows: 167, target: "Class", algorithm: "mlp", parameters: ["hidden_units": 8, "max_iter": 30]),
        Recipe(dataset: "Glass.csv", rows: 214, target: "Type", algorithm: "gbdt", parameters: ["max_iter": 5, "max_leaf_nodes": 4]),
        Recipe(dataset: "Glass.csv", rows: 214, target: "Type", algorithm: "knn", parameters: ["k": 3]),
        Recipe(dataset: "Glass.csv", rows: 214, target: "Type", algorithm: "mlp", parameters: ["hidden_units": 8, "max_iter": 30]),
        Recipe(dataset: "PimaIndiansDiabetes2.csv", rows: 120, target: "diabetes", algorithm: "logistic", missingIndicators: true),
        Recipe(dataset: "PimaIndiansDiabetes2.csv", rows: 120, target: "diabetes", algorithm: "gbdt", parameters: ["max_iter": 5, "max_leaf_nodes": 4]),
        Recipe(dataset: "mlc_churn.csv", rows: 150, target: "churn", algorithm: "random_forest", parameters: ["n_estimators": 5, "max_depth": 4]),
    ]

    /// The demonstration models, then the trained ones, in a fixed order: the first input byte
    /// picks one by index, so seeds stay meaningful across runs. Served as the server serves
    /// them, so that the targets go through ``Scoring`` as the routes do.
    static func load(root: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) throws -> [ServedModel] {
        var models = try demoModels.map { try TrainedModel.load(from: root.appendingPathComponent($0).path) }
        for recipe in recipes {
            models.append(try train(recipe, root: root))
        }
        FileHandle.standardError.write(Data("fuzz: \(models.count) models: \(models.map { "\($0.algorithm)/\($0.task.rawValue)" }.joined(separator: ", "))\n".utf8))
        return models.enumerated().map { index, model in
            ServedModel(name: "fuzz-\(index)-\(model.algorithm)", version: 1, owner: nil, model: model, record: nil, story: nil)
        }
    }

    static func train(_ recipe: Recipe, root: URL) throws -> TrainedModel {
        let table = try CSVReader().read(file: root.appendingPathComponent("datasets/\(recipe.dataset)").path)
        let rows = table.selectingRows(Array(0..<min(recipe.rows, table.rowCount)))
        let spec = TrainingSpec(target: recipe.target, algorithm: .named(recipe.algorithm), parameters: recipe.parameters,
                                seed: 1, folds: 0, missingIndicators: recipe.missingIndicators)
        return try TrainedModel.train(rows, spec: spec)
    }

    /// The model the first byte's low seven bits pick, the byte's high bit (a mode for targets
    /// that have two), and the bytes after it.
    static func pick(_ models: [ServedModel], _ input: UnsafeRawBufferPointer) -> (model: ServedModel, highBit: Bool, rest: UnsafeRawBufferPointer)? {
        guard let first = input.first, !models.isEmpty else { return nil }
        return (models[Int(first & 0x7f) % models.count], first & 0x80 != 0, UnsafeRawBufferPointer(rebasing: input.dropFirst()))
    }
}

/// Runs the routes' async code from libFuzzer's synchronous callback and waits for it; `nil`
/// when it throws (a refusal, which is not a finding).
func waitForAsync<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) -> Value? {
    let (result, done) = (AsyncResult<Value>(), DispatchSemaphore(value: 0))
    Task {
        result.value = try? await body()
        done.signal()
    }
    done.wait()
    return result.value
}

/// Where the task leaves its result: written before the semaphore is signalled, read after.
private final class AsyncResult<Value>: @unchecked Sendable {
    var value: Value?
}

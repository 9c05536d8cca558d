import Foundation

/// A model family the testbed can train, with its hyper-parameters, as a type-erased value
/// so that the command line, the model file and the server list and use every family alike.
public struct Algorithm: Sendable {
    /// The name used by `--algorithm` and in model files.
    public let name: String
    /// The tasks it can learn.
    public let tasks: Set<LearningTask>
    /// Its hyper-parameters and their defaults.
    public let parameters: [ParameterSpec]
    /// How its inputs are prepared.
    public let preprocessing: PreprocessingOptions
    private let fitBody: @Sendable (Matrix, Target, Hyperparameters, UInt64) throws -> any FittedModel
    private let decodeBody: @Sendable (any Decoder) throws -> any FittedModel

    public init<Model: FittedModel>(
        name: String, tasks: Set<LearningTask>, parameters: [ParameterSpec], preprocessing: PreprocessingOptions = PreprocessingOptions(),
        model: Model.Type, fit: @escaping @Sendable (Matrix, Target, Hyperparameters, UInt64) throws -> Model
    ) {
        self.name = name
        self.tasks = tasks
        self.parameters = parameters
        self.preprocessing = preprocessing
        self.fitBody = fit
        self.decodeBody = { try Model(from: $0) }
    }

    /// `overrides` merged over the defaults, each validated; an unknown name is an error.
    public func resolve(_ overrides: Hyperparameters) throws -> Hyperparameters {
        var resolved = Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.defaultValue) })
        for (key, value) in overrides {
            guard let spec = parameters.first(where: { $0.name == key }) else {
                let known = parameters.isEmpty ? "it has none" : "its parameters are: \(parameters.map(\.name).joined(separator: ", "))"
                throw TestbedError(.invalidParameter, "\(name) has no parameter '\(key.clipped())'; \(known)")
            }
            try spec.validate(value, algorithm: name)
            resolved[key] = value
        }
        return resolved
    }

    /// Fits a model on an encoded matrix. `parameters` are validated first.
    public func fit(_ x: Matrix, _ target: Target, parameters overrides: Hyperparameters = [:], seed: UInt64 = 0) throws -> any FittedModel {
        guard tasks.contains(target.task) else {
            throw TestbedError(.unknownAlgorithm, "\(name) does not do \(target.task.rawValue); algorithms for \(target.task.rawValue): \(AlgorithmRegistry.names(for: target.task).joined(separator: ", "))")
        }
        guard x.rows == target.values.count else {
            throw TestbedError(.shapeMismatch, "the input has \(x.rows) rows but the target \(target.values.count)")
        }
        return try fitBody(x, target, try resolve(overrides), seed)
    }

    /// Its name in plain words ("Gradient-boosted trees").
    public var title: String { AlgorithmRegistry.titles[name]?.title ?? name }

    /// A sentence on what it is and when it does well.
    public var summary: String { AlgorithmRegistry.titles[name]?.summary ?? "" }

    /// Reads a fitted model of this family.
    func decodeModel(from decoder: any Decoder) throws -> any FittedModel {
        try decodeBody(decoder)
    }
}

/// Every model family the testbed knows. New families are added here and nowhere else.
public enum AlgorithmRegistry {
    public static let all: [Algorithm] = [
        LinearRegression.algorithm,
        RidgeRegression.algorithm,
        LogisticRegression.algorithm,
        KNearestNeighbors.algorithm,
        GradientBoosting.algorithm,
        RandomForest.algorithm,
        MultilayerPerceptron.algorithm,
    ]

    /// The family called `name`, or an error that lists the known ones.
    public static func named(_ name: String) throws -> Algorithm {
        guard let algorithm = all.first(where: { $0.name == name }) else {
            throw TestbedError(.unknownAlgorithm, "unknown algorithm '\(name.clipped())'; known algorithms: \(all.map(\.name).joined(separator: ", "))")
        }
        return algorithm
    }

    /// The names of the families that learn `task`.
    public static func names(for task: LearningTask) -> [String] {
        all.filter { $0.tasks.contains(task) }.map(\.name)
    }

    /// Each family's title and a sentence on what it is, for people who are not specialists,
    /// by name. A test checks that every family in ``all`` has one.
    static let titles: [String: (title: String, summary: String)] = [
        "linear": ("Linear regression",
                   "A weighted sum of the inputs, fitted by least squares: fast and easy to read, but it misses curves and interactions."),
        "ridge": ("Ridge regression (linear)",
                  "A weighted sum of the inputs with the weights held small: steadier than plain linear regression when inputs are many or related."),
        "logistic": ("Logistic regression (linear)",
                     "The probability of each category from a weighted sum of the inputs: fast and easy to read, but it misses interactions."),
        "knn": ("Nearest neighbours",
                "Predicts from the most similar rows of the training table: no assumption about the shape, but sensitive to inputs that do not matter."),
        "gbdt": ("Gradient-boosted trees",
                 "Many small decision trees, each correcting the errors of those before: often the most accurate on tables; finds thresholds and interactions."),
        "random_forest": ("Random forest",
                          "Many decision trees, each grown on a random sample of the rows and inputs, averaged: robust with little tuning."),
        "mlp": ("Neural network (multilayer perceptron)",
                "Layers of weighted sums with bends between them, trained step by step: flexible, but needs more rows and time than trees."),
    ]

    /// The default family for a task.
    public static func defaultAlgorithm(for task: LearningTask) -> Algorithm {
        task == .regression ? RidgeRegression.algorithm : LogisticRegression.algorithm
    }
}

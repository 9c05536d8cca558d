/// The choices behind one training or evaluation run.
public struct TrainingSpec: Sendable {
    public var target: String
    /// `nil`: inferred from the target.
    public var task: Task?
    /// `nil`: the task's default algorithm.
    public var algorithm: String?
    public var parameters: Hyperparameters
    public var seed: UInt64
    public var folds: Int
    /// Columns left out of the features besides the target.
    public var excludedColumns: Set<String>
    /// Add missing-indicator columns for numeric features with missing cells.
    public var missingIndicators: Bool
    /// With `auto`: search only these families (`nil`: all of them).
    public var searchFamilies: Set<String>?

    public init(target: String, task: Task? = nil, algorithm: String? = nil, parameters: Hyperparameters = [:],
                seed: UInt64 = 0, folds: Int = 5, excludedColumns: Set<String> = [], missingIndicators: Bool = false) {
        self.target = target
        self.task = task
        self.algorithm = algorithm
        self.parameters = parameters
        self.seed = seed
        self.folds = folds
        self.excludedColumns = excludedColumns
        self.missingIndicators = missingIndicators
    }
}

/// A table made ready for learning: the target prepared, the features chosen, the rows without
/// a target left out.
public struct PreparedData: Sendable {
    public var table: DataTable
    public var target: Target
    public var features: [FeatureSpec]
    public var algorithm: Algorithm
    public var preprocessing: PreprocessingOptions
    /// What was inferred or left out, for the person running it.
    public var notes: [String]

    /// Prepares `table` for `spec`: checks the target, infers the task, selects the features.
    public init(_ table: DataTable, spec: TrainingSpec) throws {
        let target = try Target(table.column(named: spec.target), task: spec.task)
        guard spec.algorithm != "auto" else {
            throw TestbedError(.unknownAlgorithm, "'auto' is a search over algorithms, run by ModelSearch or TrainedModel.train, not one algorithm")
        }
        let algorithm = try spec.algorithm.map(AlgorithmRegistry.named) ?? AlgorithmRegistry.defaultAlgorithm(for: target.task)
        guard algorithm.tasks.contains(target.task) else {
            throw TestbedError(.unknownAlgorithm, "\(algorithm.name) does not do \(target.task.rawValue); algorithms for \(target.task.rawValue): \(AlgorithmRegistry.names(for: target.task).joined(separator: ", "))")
        }
        _ = try algorithm.resolve(spec.parameters)
        let unknownExcluded = spec.excludedColumns.subtracting(table.columnNames)
        if let name = unknownExcluded.sorted().first { _ = try table.column(named: name) }
        let (features, featureNotes) = FeatureSpec.select(from: table, target: spec.target, excluded: spec.excludedColumns)
        guard !features.isEmpty else {
            throw TestbedError(.unsuitableData, "no column besides the target '\(spec.target)' can be used as a feature; expected numeric, yes/no or categorical columns")
        }
        self.table = target.rows.count == table.rowCount ? table : table.selectingRows(target.rows)
        self.target = target
        self.target.rows = Array(0..<target.rows.count)
        self.features = features
        self.algorithm = algorithm
        var preprocessing = algorithm.preprocessing
        preprocessing.missingIndicators = spec.missingIndicators
        self.preprocessing = preprocessing
        self.notes = target.notes + featureNotes
    }

    /// Fits the preprocessing and the model on the rows at `positions` (all rows when `nil`).
    public func fit(rows positions: [Int]? = nil, parameters: Hyperparameters, seed: UInt64) throws -> (preprocessor: Preprocessor, model: any FittedModel) {
        let trainTable = positions.map { table.selectingRows($0) } ?? table
        let trainTarget = positions.map { target.selecting($0) } ?? target
        let preprocessor = try Preprocessor.fit(trainTable, features: features, options: preprocessing)
        let x = try preprocessor.transform(trainTable)
        return (preprocessor, try algorithm.fit(x, trainTarget, parameters: parameters, seed: seed))
    }

    /// k-fold cross-validation: every figure is measured on rows the fold's model did not see.
    /// - Parameter importance: also measure each feature's permutation importance on the held-out
    ///   rows (and gain importance, for trees); it costs a few predictions per feature and fold.
    /// - Parameter progress: called before each fold; throwing from it stops the cross-validation.
    public func crossValidate(folds: Int, parameters: Hyperparameters, seed: UInt64, importance: Bool = false,
                              progress: TrainingProgressHandler = { _ in }) throws -> CrossValidationResult {
        let (testFolds, notes) = try FoldSplitter(folds: folds, seed: seed).split(target)
        var perFold: [[String: Double]] = []
        var confusion: [[Int]]? = target.task == .classification
            ? [[Int]](repeating: [Int](repeating: 0, count: target.classes.count), count: target.classes.count) : nil
        var outOfFold = Matrix(rows: target.task == .classification ? target.values.count : 0, columns: target.classes.count)
        var predicted = [Double](repeating: .nan, count: target.task == .regression ? target.values.count : 0)
        var tally = importance ? ImportanceTally(features: features.map(\.name), task: target.task, folds: folds) : nil
        for (fold, testRows) in testFolds.enumerated() {
            try progress(TrainingProgress(fraction: Double(fold) / Double(testFolds.count),
                                          message: "\(algorithm.name): fold \(fold + 1) of \(testFolds.count)"))
            let testSet = Set(testRows)
            let trainRows = (0..<target.values.count).filter { !testSet.contains($0) }
            let (preprocessor, model) = try fit(rows: trainRows, parameters: parameters, seed: seed)
            let testX = try preprocessor.transform(table.selectingRows(testRows))
            let output = try model.checkedPredict(testX)
            let actual = testRows.map { target.values[$0] }
            tally?.add(model, groups: preprocessor.outputFeatureIndex, heldOut: testX, actual: actual, seed: seed &+ UInt64(fold))
            switch target.task {
            case .regression:
                perFold.append(RegressionMetrics.compute(actual: actual, predicted: output.storage))
                for (position, row) in testRows.enumerated() { predicted[row] = output.storage[position] }
            case .classification:
                let labels = actual.map { Int($0) }
                perFold.append(ClassificationMetrics.compute(actual: labels, probabilities: output))
                let foldConfusion = ClassificationMetrics.confusionMatrix(
                    actual: labels, predicted: ClassificationMetrics.predictedClasses(output), classCount: target.classes.count)
                for i in foldConfusion.indices { for j in foldConfusion.indices { confusion![i][j] += foldConfusion[i][j] } }
                for (position, row) in testRows.enumerated() {
                    for k in 0..<output.columns { outOfFold[row, k] = output[position, k] }
                }
            }
        }
        let reliability = target.task == .classification ? Calibration.reliabilityTable(actual: target.classIndices, probabilities: outOfFold) : nil
        var result = CrossValidationResult(folds: folds, perFold: perFold, confusionMatrix: confusion, reliability: reliability,
                                           importance: tally?.importances, notes: notes)
        if target.task == .regression {
            result.predictedVsActual = OutOfFoldPoint.sample(actual: target.values, predicted: predicted)
        }
        return result
    }
}

/// Metrics across the folds of a cross-validation: mean and (population) standard deviation.
public struct CrossValidationResult: Sendable, Codable, Equatable {
    public var folds: Int
    public var metrics: [String: Double]
    public var metricsStd: [String: Double]
    /// Classification: out-of-fold predictions counted as `[actual][predicted]`.
    public var confusionMatrix: [[Int]]?
    /// Classification: the reliability table of the out-of-fold probabilities.
    public var reliability: [ReliabilityBin]?
    /// When asked for: each feature's importance on held-out rows, most important first.
    public var importance: [FeatureImportance]?
    /// Regression: out-of-fold predictions against the actual values, for a plot (at most
    /// `OutOfFoldPoint.maxCount` rows, evenly spaced over the table).
    public var predictedVsActual: [OutOfFoldPoint]?
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case folds, metrics, notes, reliability, importance
        case predictedVsActual = "predicted_vs_actual"
        case metricsStd = "metrics_std"
        case confusionMatrix = "confusion_matrix"
    }

    init(folds: Int, perFold: [[String: Double]], confusionMatrix: [[Int]]?, reliability: [ReliabilityBin]?,
         importance: [FeatureImportance]? = nil, notes: [String]) {
        // A metric undefined in some fold (ROC AUC without a class) is averaged over the folds that have it.
        let names = Set(perFold.flatMap(\.keys))
        var metrics: [String: Double] = [:], spread: [String: Double] = [:]
        for name in names {
            let (mean, std) = perFold.compactMap { $0[name] }.meanAndStandardDeviation()
            metrics[name] = mean
            spread[name] = std
        }
        self.folds = folds
        self.metrics = metrics
        self.metricsStd = spread
        self.confusionMatrix = confusionMatrix
        self.reliability = reliability
        self.importance = importance
        self.notes = notes
    }
}

/// One row's actual value and the prediction of the fold model that did not see it.
public struct OutOfFoldPoint: Sendable, Codable, Equatable {
    public var actual: Double
    public var predicted: Double

    /// Enough points for a scatter plot, little enough to keep in every model file.
    public static let maxCount = 500

    /// Every row, or `maxCount` rows evenly spaced over the table.
    static func sample(actual: [Double], predicted: [Double]) -> [OutOfFoldPoint] {
        let count = min(actual.count, maxCount)
        return (0..<count).map { index in
            let row = index * actual.count / count
            return OutOfFoldPoint(actual: actual[row], predicted: predicted[row])
        }
    }
}

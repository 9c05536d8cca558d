import Synchronization

/// The choices behind one training or evaluation run.
public struct TrainingSpec: Sendable {
    public var target: String
    /// `nil`: inferred from the target.
    public var task: LearningTask?
    public var algorithm: AlgorithmChoice
    public var parameters: Hyperparameters
    public var seed: UInt64
    public var folds: Int
    /// How to split the rows into folds; unset parts are inferred from the table.
    public var split: SplitRequest
    /// The share of new rows that prediction intervals (or sets) are calibrated to cover.
    public var coverage: Double
    /// Columns left out of the features besides the target.
    public var excludedColumns: Set<String>
    /// Add missing-indicator columns for numeric features with missing cells.
    public var missingIndicators: Bool

    public init(target: String, task: LearningTask? = nil, algorithm: AlgorithmChoice = .taskDefault, parameters: Hyperparameters = [:],
                seed: UInt64 = 0, folds: Int = 5, split: SplitRequest = SplitRequest(), coverage: Double = ConformalCalibration.defaultCoverage,
                excludedColumns: Set<String> = [], missingIndicators: Bool = false) {
        self.target = target
        self.task = task
        self.algorithm = algorithm
        self.parameters = parameters
        self.seed = seed
        self.folds = folds
        self.split = split
        self.coverage = coverage
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
    /// How the cross-validation splits the rows, and why.
    public var plan: ValidationPlan
    /// The coverage of the conformal intervals or sets the cross-validation calibrates.
    public var coverage: Double
    /// What was inferred or left out, for the person running it.
    public var notes: [String]

    /// Prepares `table` for `spec`: checks the target, infers the task, selects the features.
    public init(_ table: DataTable, spec: TrainingSpec) throws {
        let target = try Target(table.column(named: spec.target), task: spec.task)
        let algorithm: Algorithm
        switch spec.algorithm {
        case .search:
            throw TestbedError(.unknownAlgorithm, "a search over algorithms is run by ModelSearch or TrainedModel.train, not as one algorithm")
        case .named(let name): algorithm = try AlgorithmRegistry.named(name)
        case .taskDefault: algorithm = AlgorithmRegistry.defaultAlgorithm(for: target.task)
        }
        guard algorithm.tasks.contains(target.task) else {
            throw TestbedError(.unknownAlgorithm, "\(algorithm.name) does not do \(target.task.rawValue); algorithms for \(target.task.rawValue): \(AlgorithmRegistry.names(for: target.task).joined(separator: ", "))")
        }
        _ = try algorithm.resolve(spec.parameters)
        try ConformalCalibration.validate(coverage: spec.coverage)
        let unknownExcluded = spec.excludedColumns.subtracting(table.columnNames)
        if let name = unknownExcluded.sorted().first { _ = try table.column(named: name) }
        let plan = try ValidationPlan(spec.split, folds: spec.folds, table: table, target: spec.target)
        // The groups are what the model must generalise across; as a feature, each test fold's
        // group would be a category its model never saw.
        var excluded = spec.excludedColumns
        var planNotes: [String] = []
        if let group = plan.groupColumn, !excluded.contains(group) {
            excluded.insert(group)
            planNotes.append("column '\(group)' names the groups of the split; left out of the features")
        }
        let (features, featureNotes) = FeatureSpec.select(from: table, target: spec.target, excluded: excluded)
        guard !features.isEmpty else {
            throw TestbedError(.unsuitableData, "no column besides the target '\(spec.target)' can be used as a feature; expected numeric, yes/no, categorical or date columns")
        }
        self.table = target.rows.count == table.rowCount ? table : table.selectingRows(target.rows)
        self.target = target
        self.target.rows = Array(0..<target.rows.count)
        self.features = features
        self.algorithm = algorithm
        var preprocessing = algorithm.preprocessing
        preprocessing.missingIndicators = spec.missingIndicators
        self.preprocessing = preprocessing
        self.plan = plan
        self.coverage = spec.coverage
        self.notes = target.notes + featureNotes + planNotes
    }

    /// Fits the preprocessing and the model on the rows at `positions` (all rows when `nil`).
    public func fit(rows positions: [Int]? = nil, parameters: Hyperparameters, seed: UInt64) throws -> (preprocessor: Preprocessor, model: any FittedModel) {
        let trainTable = positions.map { table.selectingRows($0) } ?? table
        let trainTarget = positions.map { target.selecting($0) } ?? target
        let preprocessor = try Preprocessor.fit(trainTable, features: features, options: preprocessing)
        let x = try preprocessor.transform(trainTable)
        return (preprocessor, try algorithm.fit(x, trainTarget, parameters: parameters, seed: seed))
    }

    /// Cross-validation by ``plan``: every figure is measured on rows the fold's model did not see.
    /// - Parameter plan: the split (`nil`: the prepared ``plan``).
    /// - Parameter importance: also measure each feature's permutation importance on the held-out
    ///   rows (and gain importance, for trees); it costs a few predictions per feature and fold.
    /// - Parameter progress: called before and after each fold (folds run on all of
    ///   ``Parallelism/threads``); throwing from it stops the cross-validation once the folds
    ///   already running finish.
    public func crossValidate(plan: ValidationPlan? = nil, parameters: Hyperparameters, seed: UInt64, importance: Bool = false,
                              progress: TrainingProgressHandler = { _ in }) throws -> CrossValidationResult {
        let (folds, notes) = try FoldSplitter(plan: plan ?? self.plan, seed: seed).split(target, table: table)
        return try crossValidate(folds: folds, foldNotes: notes, plan: plan ?? self.plan, parameters: parameters, seed: seed,
                                 importance: importance, progress: progress).result
    }

    /// ``crossValidate(plan:parameters:seed:importance:progress:)`` on given folds, also returning
    /// the out-of-fold predictions (regression: one column; classification: one per class; rows
    /// no fold tested hold NaN) and which rows were tested.
    func crossValidate(folds: [Fold], foldNotes notes: [String], plan: ValidationPlan, parameters: Hyperparameters, seed: UInt64,
                       importance: Bool = false, progress: TrainingProgressHandler = { _ in })
        throws -> (result: CrossValidationResult, outOfFold: Matrix, tested: [Bool]) {
        var tally = importance ? ImportanceTally(features: features.map(\.name), task: target.task, folds: folds.count) : nil
        // The folds are fitted on all of ``Parallelism/threads``. The progress handler is called by
        // one of them at a time, before each fold (where a stop is honoured; folds already running
        // finish first) and after each, its fraction the share of folds done.
        let done = Mutex(0)
        func report(_ message: String, finished: Bool) throws {
            try done.withLock { count in
                if finished { count += 1 }
                try progress(TrainingProgress(fraction: Double(count) / Double(folds.count), message: "\(algorithm.name): \(message)"))
            }
        }
        let fitted = try Parallelism.map(folds.count) { index throws in
            try report("fold \(index + 1) of \(folds.count)", finished: false)
            let (preprocessor, model) = try fit(rows: folds[index].train, parameters: parameters, seed: seed)
            let testX = try preprocessor.transform(table.selectingRows(folds[index].test))
            let output = try model.checkedPredict(testX)
            try report("fold \(index + 1) of \(folds.count) done", finished: true)
            return (preprocessor, model, testX, output: output)
        }
        for (index, (preprocessor, model, testX, _)) in fitted.enumerated() {
            tally?.add(model, groups: preprocessor.outputFeatureIndex, heldOut: testX, actual: folds[index].test.map { target.values[$0] },
                       seed: seed &+ UInt64(index))
        }
        let outputs = fitted.map(\.output)
        var evaluation = evaluate(folds: folds, outputs: outputs, foldNotes: notes, plan: plan)
        evaluation.result.importance = tally?.importances
        return evaluation
    }

    /// The cross-validation figures of the predictions `outputs[i]` of each fold's test rows
    /// (`folds[i].test`, in order): ``CrossValidationResult/evaluate(folds:outputs:target:plan:coverage:notes:)``
    /// for this table's target and coverage.
    func evaluate(folds: [Fold], outputs: [Matrix], foldNotes notes: [String], plan: ValidationPlan)
        -> (result: CrossValidationResult, outOfFold: Matrix, tested: [Bool]) {
        CrossValidationResult.evaluate(folds: folds, outputs: outputs, target: target, plan: plan, coverage: coverage, notes: notes)
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
    /// How the rows were split (absent in files from before time and group splits: random).
    public var validation: ValidationPlan?
    /// The intervals or sets calibrated on the out-of-fold predictions.
    public var conformal: ConformalCalibration?
    /// With `auto`: the winner scored on rows the search did not see; the card shows these figures.
    public var outerHoldOut: OuterHoldOut?
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case folds, metrics, notes, reliability, importance, validation, conformal
        case predictedVsActual = "predicted_vs_actual"
        case outerHoldOut = "outer_hold_out"
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

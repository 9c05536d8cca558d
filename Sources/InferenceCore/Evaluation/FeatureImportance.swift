/// How much a model relies on one feature, measured on held-out rows.
public struct FeatureImportance: Sendable, Codable, Equatable {
    public var feature: String
    /// The mean increase of the error (RMSE, or log loss) on the held-out rows of each
    /// fold when this feature's values are shuffled among them: 0 or less means unused.
    public var permutation: Double
    /// The spread of that increase over folds and repeats.
    public var permutationStd: Double
    /// Tree models: the feature's share of the loss reduction of all splits, averaged over folds.
    public var gain: Double?

    enum CodingKeys: String, CodingKey {
        case feature, permutation, gain
        case permutationStd = "permutation_std"
    }
}

/// Permutation importance (Breiman 2001; scikit-learn's `permutation_importance`): shuffle one
/// feature's values among held-out rows, all of its encoded columns together, and measure how much
/// worse the model's predictions get.
public struct PermutationImportance {
    /// Shuffles per feature and fold.
    static let repeats = 3
    /// Held-out rows used per fold at most, so that wide, long tables stay affordable
    /// (each feature costs `repeats` predictions of them).
    static let maxRows = 2_000

    let task: LearningTask
    /// For each encoded column, the feature it belongs to.
    let groups: [Int]
    let featureCount: Int

    /// The error whose increase is measured: RMSE, or log loss (smoother than accuracy on few rows).
    public static func metric(for task: LearningTask) -> String {
        task == .regression ? "rmse" : "log_loss"
    }

    /// That error of `output` against `actual`.
    func error(_ output: Matrix, _ actual: [Double]) -> Double {
        switch task {
        case .regression: return RegressionMetrics.compute(actual: actual, predicted: output.storage)["rmse"]!
        case .classification: return ClassificationMetrics.logLoss(actual: actual.map { Int($0) }, probabilities: output)
        }
    }

    /// Per feature, the increase in error for each repeat, on (at most ``maxRows`` of) one fold's held-out rows.
    func increases(_ model: any FittedModel, _ heldOut: Matrix, actual heldOutActual: [Double], seed: UInt64) -> [[Double]] {
        var generator = SeededGenerator(seed: seed)
        var sample = Array(0..<heldOut.rows)
        if sample.count > Self.maxRows {
            generator.shuffle(&sample)
            sample = Array(sample.prefix(Self.maxRows))
        }
        let x = sample.count < heldOut.rows ? heldOut.selectingRows(sample) : heldOut
        let actual = sample.map { heldOutActual[$0] }
        let baseline = error(model.predict(x), actual)
        return (0..<featureCount).map { feature in
            let columns = groups.indices.filter { groups[$0] == feature }
            return (0..<Self.repeats).map { _ in
                var order = Array(0..<x.rows)
                generator.shuffle(&order)
                var shuffled = x
                for row in 0..<x.rows { for column in columns { shuffled[row, column] = x[order[row], column] } }
                return error(model.predict(shuffled), actual) - baseline
            }
        }
    }
}

/// Importances gathered fold by fold during a cross-validation.
struct ImportanceTally {
    let features: [String]
    let task: LearningTask
    let folds: Int
    /// Per feature, every fold's and repeat's increase in error.
    private var increases: [[Double]]
    /// Per feature, the mean share of the split gain over folds (tree models only).
    private var gains: [Double]?

    init(features: [String], task: LearningTask, folds: Int) {
        (self.features, self.task, self.folds) = (features, task, folds)
        increases = [[Double]](repeating: [], count: features.count)
    }

    /// Measures a fold's model on its held-out rows; `groups` maps encoded columns to features.
    mutating func add(_ model: any FittedModel, groups: [Int], heldOut: Matrix, actual: [Double], seed: UInt64) {
        let permutation = PermutationImportance(task: task, groups: groups, featureCount: features.count)
        for (feature, values) in permutation.increases(model, heldOut, actual: actual, seed: seed).enumerated() {
            increases[feature] += values
        }
        if let trees = model as? any GainImportanceModel {
            var total = gains ?? [Double](repeating: 0, count: features.count)
            for (column, share) in trees.gainImportance().enumerated() { total[groups[column]] += share / Double(folds) }
            gains = total
        }
    }

    /// Every feature's importance, most important first.
    var importances: [FeatureImportance] {
        features.indices.map { index in
            let (mean, std) = increases[index].meanAndStandardDeviation()
            return FeatureImportance(feature: features[index], permutation: mean, permutationStd: std, gain: gains?[index])
        }.sorted { $0.permutation > $1.permutation }
    }
}

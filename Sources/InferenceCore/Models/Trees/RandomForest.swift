/// `random_forest`: deep trees on bootstrap samples with a random subset of features tried at each
/// split, averaged (class probabilities for classification), as scikit-learn's `RandomForest*`,
/// except that splits are between the 255 quantile bins of each feature rather than between all
/// its distinct values, and missing values are sent to the side learned at each split.
public enum RandomForest {
    public static let algorithm = Algorithm(
        name: "random_forest", tasks: [.regression, .classification],
        parameters: [
            ParameterSpec("n_estimators", default: 100, range: 1...10_000, integer: true),
            // 0: grow until the leaves are pure or too small to split.
            ParameterSpec("max_depth", default: 0, range: 0...1_000, integer: true),
            ParameterSpec("min_samples_leaf", default: 1, range: 1...1_000_000, integer: true),
            // Share of the features tried at each split; 0: the square root of their number for
            // classification, all of them for regression (scikit-learn's defaults).
            ParameterSpec("max_features", default: 0, range: 0...1),
            ParameterSpec("bootstrap", default: 1, range: 0...1, integer: true),
        ],
        preprocessing: PreprocessingOptions(standardize: false, imputeMissing: false),
        model: ForestModel.self
    ) { x, target, parameters, seed in
        fit(x, target, parameters: parameters, seed: seed)
    }

    static func fit(_ x: Matrix, _ target: Target, parameters: Hyperparameters, seed: UInt64) -> ForestModel {
        let classification = target.task == .classification
        let share = parameters["max_features"]!
        let featuresPerSplit = share == 0
            ? (classification ? Int(Double(x.columns).squareRoot()) : x.columns)
            : Int(share * Double(x.columns))
        let depth = Int(parameters["max_depth"]!)
        let settings = ForestGrower.Settings(
            maxDepth: depth == 0 ? Int.max : depth, minSamplesLeaf: Int(parameters["min_samples_leaf"]!),
            featuresPerSplit: max(1, featuresPerSplit))
        let binner = FeatureBinner(fitting: x, maxBins: 255, seed: seed)
        let channels = classification ? target.classes.count : 1
        let bootstrap = parameters["bootstrap"]! == 1
        let trees = binner.binned.withUnsafeBufferPointer { binned in
            let grower = ForestGrower(binned: binned, rowCount: x.rows, binCounts: binner.binCounts, thresholds: binner.thresholds,
                                      targets: target.values, channels: channels, settings: settings)
            // The trees are grown on all of ``Parallelism/threads``; each lands in its own slot.
            return Parallelism.map(Int(parameters["n_estimators"]!)) { index in
                // Each tree has its own stream, so a forest's trees do not depend on how many came before.
                var generator = SeededGenerator(seed: seed &+ UInt64(index) &* 0xD1B5_4A32_D192_ED03)
                var weights = [Double](repeating: bootstrap ? 0 : 1, count: x.rows)
                if bootstrap { for _ in 0..<x.rows { weights[Int(generator.next() % UInt64(x.rows))] += 1 } }
                return grower.grow(weights: weights, generator: &generator)
            }
        }
        return ForestModel(outputs: channels, trees: trees, inputWidth: x.columns)
    }
}

/// A fitted random forest: the mean of its trees' outputs (the target, or one probability per class).
public struct ForestModel: FittedModel, Equatable {
    public var outputs: Int
    public var trees: [FlatTree]
    public var inputWidth: Int

    enum CodingKeys: String, CodingKey {
        case outputs, trees
        case inputWidth = "input_width"
    }

    public func inconsistency(predictedColumns: Int) -> String? {
        guard outputs == predictedColumns, !trees.isEmpty, trees.allSatisfy({ $0.outputs == outputs }) else {
            return "\(trees.count) trees for \(outputs) outputs where \(predictedColumns) are needed"
        }
        return trees.lazy.compactMap { $0.inconsistency(inputWidth: inputWidth) }.first
    }

    public func predict(_ x: Matrix) -> Matrix {
        var scores = [Double](repeating: 0, count: x.rows * outputs)
        FlatTree.accumulate(trees, x, into: &scores, stride: outputs, scale: 1 / Double(trees.count)) { _ in 0 }
        return Matrix(rows: x.rows, columns: outputs, storage: scores)
    }
}

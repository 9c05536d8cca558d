import Foundation

/// Histogram-based gradient-boosted trees, in the manner of LightGBM and scikit-learn's
/// `HistGradientBoosting*` (same hyper-parameter names and defaults). Losses: squared error,
/// binary log loss, multiclass softmax (one tree per class per round).
public enum GradientBoosting {
    public static let algorithm = Algorithm(
        name: "gbdt", tasks: [.regression, .classification],
        parameters: [
            ParameterSpec("learning_rate", default: 0.1, range: 0...1, lowerBoundExcluded: true),
            ParameterSpec("max_iter", default: 100, range: 1...10_000, integer: true),
            ParameterSpec("max_leaf_nodes", default: 31, range: 2...4096, integer: true),
            ParameterSpec("min_samples_leaf", default: 20, range: 1...1_000_000, integer: true),
            ParameterSpec("l2_regularization", default: 0, range: 0...Double.infinity),
            ParameterSpec("max_bins", default: 255, range: 2...255, integer: true),
            // -1: on when there are more than 10,000 rows (as scikit-learn's "auto"); 0 off; 1 on.
            ParameterSpec("early_stopping", default: -1, range: -1...1, integer: true),
            // LightGBM's feature_fraction: each tree chooses its splits among this share of the
            // features, drawn anew for every tree (at least one).
            ParameterSpec("feature_fraction", default: 1, range: 0...1, lowerBoundExcluded: true),
        ],
        preprocessing: PreprocessingOptions(standardize: false, imputeMissing: false),
        model: BoostedTrees.self
    ) { x, target, parameters, seed in
        try fit(x, target, parameters: parameters, seed: seed)
    }

    /// Log-odds (and softmax scores) move at most this far in one tree, before the learning rate,
    /// so that a leaf of nearly certain rows (tiny hessians) cannot produce a huge value: the
    /// failure LightGBM's defaults show on rare classes.
    static let maxClassificationLeafOutput = 10.0

    static func fit(_ x: Matrix, _ target: Target, parameters: Hyperparameters, seed: UInt64) throws -> BoostedTrees {
        let loss: BoostedTrees.Loss = target.task == .regression ? .squaredError : (target.classes.count == 2 ? .logLoss : .softmax)
        let outputs = loss == .softmax ? target.classes.count : 1
        let n = x.rows

        // Hold out a tenth of the rows to decide when to stop, when early stopping is on.
        let earlyStopping = parameters["early_stopping"]! == 1 || (parameters["early_stopping"]! == -1 && n > 10_000)
        var order = Array(0..<n)
        var validation: [Int] = []
        if earlyStopping {
            var generator = SeededGenerator(seed: seed)
            generator.shuffle(&order)
            validation = Array(order.prefix(max(1, n / 10)))
            order = Array(order.dropFirst(validation.count))
        }
        let training = earlyStopping ? x.selectingRows(order) : x
        let trainTargets = earlyStopping ? order.map { target.values[$0] } : target.values
        let validationTargets = validation.map { target.values[$0] }

        let binner = FeatureBinner(fitting: training, maxBins: Int(parameters["max_bins"]!), seed: seed)
        let baseline = BoostedTrees.baseline(loss, trainTargets, classCount: target.classes.count)
        var model = BoostedTrees(loss: loss, outputs: outputs, baseline: baseline, trees: [], inputWidth: x.columns)
        var scores = model.baselineScores(rows: training.rows)
        let validationX = x.selectingRows(validation)
        var validationScores = model.baselineScores(rows: validation.count)

        let settings = TreeGrower.Settings(
            maxLeafNodes: Int(parameters["max_leaf_nodes"]!), minSamplesLeaf: Int(parameters["min_samples_leaf"]!),
            l2: parameters["l2_regularization"]!, maxLeafOutput: loss == .squaredError ? .infinity : maxClassificationLeafOutput,
            learningRate: parameters["learning_rate"]!, unitHessians: loss == .squaredError)
        var bestLoss = Double.infinity, bestRounds = 0
        let grower = TreeGrower(binned: binner.binned, rowCount: training.rows, binCounts: binner.binCounts,
                                thresholds: binner.thresholds, settings: settings)
        var gradients = [Double](repeating: 0, count: training.rows), hessians = gradients
        let fraction = parameters["feature_fraction"] ?? 1
        let perTree = max(1, Int((fraction * Double(x.columns)).rounded()))
        var featureGenerator = SeededGenerator(seed: seed ^ 0xFEA7_F4AC)
        func treeFeatures() -> [Bool]? {
            guard perTree < x.columns else { return nil }
            var order = Array(0..<x.columns)
            featureGenerator.shuffle(&order)
            var allowed = [Bool](repeating: false, count: x.columns)
            for feature in order.prefix(perTree) { allowed[feature] = true }
            return allowed
        }
        for round in 0..<Int(parameters["max_iter"]!) {
            let probabilities = model.link(scores)
            for k in 0..<outputs {
                BoostedTrees.gradients(loss, probabilities, trainTargets, output: k, outputs: outputs, into: &gradients, &hessians)
                let tree = grower.grow(gradients: gradients, hessians: hessians, scores: &scores, stride: outputs, offset: k,
                                       features: treeFeatures())
                model.trees.append(tree)
                FlatTree.accumulate([tree], validationX, into: &validationScores, stride: outputs) { _ in k }
            }
            guard earlyStopping else { continue }
            let current = model.loss(validationScores, validationTargets)
            if current < bestLoss - 1e-7 {
                (bestLoss, bestRounds) = (current, round + 1)
            } else if round + 1 - bestRounds >= 10 {
                break
            }
        }
        if earlyStopping { model.trees = Array(model.trees.prefix(bestRounds * outputs)) }
        guard model.trees.allSatisfy({ $0.value.allSatisfy(\.isFinite) }) else {
            throw TestbedError(.numericalFailure, "gradient boosting produced non-finite leaf values; check the inputs for extreme values")
        }
        return model
    }
}

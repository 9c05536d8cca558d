import Foundation

/// Classification quality from class probabilities, with scikit-learn's definitions.
public enum ClassificationMetrics {
    /// The predicted class of each row: the most probable one, the first on a tie.
    public static func predictedClasses(_ probabilities: Matrix) -> [Int] {
        (0..<probabilities.rows).map { row in
            var best = 0
            for k in 1..<probabilities.columns where probabilities[row, k] > probabilities[row, best] { best = k }
            return best
        }
    }

    /// `confusion[actual][predicted]` counts over `classCount` classes.
    public static func confusionMatrix(actual: [Int], predicted: [Int], classCount: Int) -> [[Int]] {
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        for (a, p) in zip(actual, predicted) { matrix[a][p] += 1 }
        return matrix
    }

    /// `accuracy`, `balanced_accuracy`, `macro_precision`, `macro_recall`, `macro_f1`,
    /// `log_loss`, `brier` and `roc_auc` (binary, or macro one-vs-rest; left out when a class is absent
    /// from `actual`, where it is undefined).
    public static func compute(actual: [Int], probabilities: Matrix) -> [String: Double] {
        precondition(actual.count == probabilities.rows && !actual.isEmpty, "metrics need one probability row per label")
        let classCount = probabilities.columns
        let predicted = predictedClasses(probabilities)
        let confusion = confusionMatrix(actual: actual, predicted: predicted, classCount: classCount)
        let n = Double(actual.count)
        let correct = (0..<classCount).reduce(0) { $0 + confusion[$1][$1] }

        // Macro averages over the labels that occur in either the truth or the predictions.
        let occurring = (0..<classCount).filter { k in confusion[k].reduce(0, +) > 0 || confusion.reduce(0) { $0 + $1[k] } > 0 }
        var precisions: [Double] = [], recalls: [Double] = [], f1s: [Double] = [], presentRecalls: [Double] = []
        for k in occurring {
            let truePositives = Double(confusion[k][k])
            let actualCount = Double(confusion[k].reduce(0, +))
            let predictedCount = Double(confusion.reduce(0) { $0 + $1[k] })
            let precision = predictedCount > 0 ? truePositives / predictedCount : 0
            let recall = actualCount > 0 ? truePositives / actualCount : 0
            precisions.append(precision)
            recalls.append(recall)
            f1s.append(precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0)
            if actualCount > 0 { presentRecalls.append(recall) }
        }
        var metrics: [String: Double] = [
            "accuracy": Double(correct) / n,
            "balanced_accuracy": mean(presentRecalls),
            "macro_precision": mean(precisions),
            "macro_recall": mean(recalls),
            "macro_f1": mean(f1s),
            "log_loss": logLoss(actual: actual, probabilities: probabilities),
            "brier": Calibration.brierScore(actual: actual, probabilities: probabilities),
        ]
        if let auc = rocAUC(actual: actual, probabilities: probabilities) { metrics["roc_auc"] = auc }
        return metrics
    }

    /// Mean negative log-probability of the true class, probabilities clipped to [ε, 1−ε].
    public static func logLoss(actual: [Int], probabilities: Matrix) -> Double {
        let epsilon = Double.ulpOfOne
        let total = actual.enumerated().reduce(0.0) { sum, item in
            sum - log(min(max(probabilities[item.offset, item.element], epsilon), 1 - epsilon))
        }
        return total / Double(actual.count)
    }

    /// Area under the ROC curve: for two classes, of the second class's probability; for more,
    /// the unweighted mean of each class against the rest. `nil` when a class is absent.
    public static func rocAUC(actual: [Int], probabilities: Matrix) -> Double? {
        let classCount = probabilities.columns
        if classCount == 2 {
            return binaryAUC(positive: actual.map { $0 == 1 }, scores: probabilities.column(1))
        }
        var areas: [Double] = []
        for k in 0..<classCount {
            guard let area = binaryAUC(positive: actual.map { $0 == k }, scores: probabilities.column(k)) else { return nil }
            areas.append(area)
        }
        return mean(areas)
    }

    /// The Mann–Whitney form of the AUC, with tied scores sharing their average rank
    /// (identical to the trapezoidal area under the ROC curve).
    static func binaryAUC(positive: [Bool], scores: [Double]) -> Double? {
        let positives = positive.filter { $0 }.count
        let negatives = positive.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var positiveRankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let averageRank = Double(start + end) / 2 + 1
            for index in order[start...end] where positive[index] { positiveRankSum += averageRank }
            start = end + 1
        }
        let p = Double(positives)
        return (positiveRankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }

    private static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}

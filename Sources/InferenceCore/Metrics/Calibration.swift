/// One bin of a reliability table: predictions in `lower...upper` and how often they came true.
public struct ReliabilityBin: Sendable, Codable, Equatable {
    public var lower: Double
    public var upper: Double
    public var count: Int
    public var meanPredicted: Double
    public var observedFrequency: Double

    enum CodingKeys: String, CodingKey {
        case lower, upper, count
        case meanPredicted = "mean_predicted"
        case observedFrequency = "observed_frequency"
    }
}

/// How far predicted probabilities can be taken at their word.
public enum Calibration {
    /// The Brier score as scikit-learn's `brier_score_loss`: the mean over rows of the squared
    /// distance between the probability row and the one-hot truth, halved for two classes (so it
    /// is `(p − y)²` of the positive class there).
    public static func brierScore(actual: [Int], probabilities: Matrix) -> Double {
        var total = 0.0
        for (row, label) in actual.enumerated() {
            for k in 0..<probabilities.columns {
                let difference = probabilities[row, k] - (k == label ? 1 : 0)
                total += difference * difference
            }
        }
        return total / Double(actual.count) * (probabilities.columns < 3 ? 0.5 : 1)
    }

    /// Predicted probability against observed frequency in `bins` equal-width bins (empty bins
    /// left out), as scikit-learn's `calibration_curve(strategy="uniform")`: a value on a bin edge
    /// belongs to the lower bin.
    public static func reliability(predicted: [Double], observed: [Bool], bins: Int = 10) -> [ReliabilityBin] {
        var sums = [Double](repeating: 0, count: bins), hits = sums, counts = [Int](repeating: 0, count: bins)
        for (probability, outcome) in zip(predicted, observed) {
            var bin = 0
            while bin < bins - 1 && Double(bin + 1) / Double(bins) < probability { bin += 1 }
            sums[bin] += probability
            hits[bin] += outcome ? 1 : 0
            counts[bin] += 1
        }
        return (0..<bins).filter { counts[$0] > 0 }.map { bin in
            ReliabilityBin(lower: Double(bin) / Double(bins), upper: Double(bin + 1) / Double(bins), count: counts[bin],
                           meanPredicted: sums[bin] / Double(counts[bin]), observedFrequency: hits[bin] / Double(counts[bin]))
        }
    }

    /// The reliability table of a classifier: of the second class's probability for two classes,
    /// of the most probable class's probability (was that class right?) for more.
    public static func reliabilityTable(actual: [Int], probabilities: Matrix, bins: Int = 10) -> [ReliabilityBin] {
        if probabilities.columns == 2 {
            return reliability(predicted: probabilities.column(1), observed: actual.map { $0 == 1 }, bins: bins)
        }
        let predicted = ClassificationMetrics.predictedClasses(probabilities)
        return reliability(predicted: predicted.enumerated().map { probabilities[$0.offset, $0.element] },
                           observed: zip(predicted, actual).map { $0 == $1 }, bins: bins)
    }
}

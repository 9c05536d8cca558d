/// Regression quality: root mean squared error, mean absolute error and R².
public enum RegressionMetrics {
    /// `rmse`, `mae` and `r2` of `predicted` against `actual`.
    public static func compute(actual: [Double], predicted: [Double]) -> [String: Double] {
        precondition(actual.count == predicted.count && !actual.isEmpty, "metrics need equally many, and some, values")
        let n = Double(actual.count)
        var squared = 0.0, absolute = 0.0
        for (a, p) in zip(actual, predicted) {
            squared += (a - p) * (a - p)
            absolute += abs(a - p)
        }
        let mean = actual.reduce(0, +) / n
        let total = actual.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        // As scikit-learn: a constant target scores 1 when predicted exactly, else 0.
        let r2 = total == 0 ? (squared == 0 ? 1 : 0) : 1 - squared / total
        return ["rmse": (squared / n).squareRoot(), "mae": absolute / n, "r2": r2]
    }
}

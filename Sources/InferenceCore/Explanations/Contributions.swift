/// The scale on which a model's contributions add up.
public enum ContributionScale: String, Sendable, Codable {
    /// Regression: the predicted value.
    case value
    /// Classification by a linear model or boosted trees: log-odds for two classes, the softmax
    /// score of each class for more.
    case logOdds = "log_odds"
    /// Classification by a random forest, whose output is an average of probabilities.
    case probability
}

/// Per-row feature contributions: for each row and output, `base[output]` plus the row's
/// contributions equals the model's raw output (before any link).
public struct Contributions: Sendable {
    public var scale: ContributionScale
    /// The expected raw output over the training rows, per output.
    public var base: [Double]
    public var rows: Int
    /// Contribution columns (the model's encoded inputs, or features once grouped).
    public var width: Int
    /// `values[(row * outputs + output) * width + column]`.
    public var values: [Double]

    public var outputs: Int { base.count }

    init(scale: ContributionScale, base: [Double], rows: Int, width: Int) {
        self.scale = scale
        self.base = base
        self.rows = rows
        self.width = width
        self.values = [Double](repeating: 0, count: rows * base.count * width)
    }

    /// The contributions of one row to one output.
    public func contributions(row: Int, output: Int) -> ArraySlice<Double> {
        let start = (row * outputs + output) * width
        return values[start ..< start + width]
    }

    /// Contributions summed over groups of columns: `groups[column]` is the group of each column.
    /// Shapley values are additive, so a group's sum is the contribution of the group as a whole.
    func grouped(_ groups: [Int], count: Int) -> Contributions {
        var result = Contributions(scale: scale, base: base, rows: rows, width: count)
        for block in 0..<(rows * outputs) {
            for column in 0..<width { result.values[block * count + groups[column]] += values[block * width + column] }
        }
        return result
    }
}

/// A model that can say how much each input moved each prediction.
public protocol ExplainableModel: FittedModel {
    /// Exact additive contributions of every input for every row of `x`.
    func contributions(_ x: Matrix) -> Contributions
    /// The scale ``contributions(_:)`` adds up on.
    var contributionScale: ContributionScale { get }
}

/// A model whose training measured how much each input reduced the loss.
public protocol GainImportanceModel: FittedModel {
    /// Per input, the total loss reduction of the splits on it, as shares summing to 1 (all zeros without splits).
    func gainImportance() -> [Double]
}

extension LinearModel: ExplainableModel {
    /// Coefficient times the input's distance from its training mean, so that the base is the
    /// score of the mean input.
    public func contributions(_ x: Matrix) -> Contributions {
        let outputs = coefficients.rows
        let base = (0..<outputs).map { intercepts[$0] + BLAS.dot(coefficients.row($0), inputMeans) }
        var result = Contributions(scale: contributionScale, base: base, rows: x.rows, width: x.columns)
        for row in 0..<x.rows {
            for output in 0..<outputs {
                let start = (row * outputs + output) * x.columns
                for column in 0..<x.columns {
                    result.values[start + column] = coefficients[output, column] * (x[row, column] - inputMeans[column])
                }
            }
        }
        return result
    }

    public var contributionScale: ContributionScale { link == .identity ? .value : .logOdds }
}

/// Shares of a total, or zeros when the total is zero.
func normalizedShares(_ values: [Double]) -> [Double] {
    let total = values.reduce(0, +)
    return total > 0 ? values.map { $0 / total } : values
}

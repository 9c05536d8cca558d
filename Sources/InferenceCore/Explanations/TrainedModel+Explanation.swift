/// Why a model predicted what it did, row by row, in terms of the input columns.
public struct Explanation: Sendable {
    /// The input columns (features) the contributions are for.
    public var features: [String]
    public var scale: ContributionScale
    /// Classification: the class whose score is explained in each row (the predicted one).
    public var explainedClasses: [Int]?
    /// Per row: the expected output over the training rows, where the contributions start.
    public var base: [Double]
    /// Per row and feature; each row sums with its base to the explained output.
    public var contributions: Matrix

    /// The `count` largest contributions of a row (by size), largest first.
    public func top(_ count: Int, row: Int) -> [(feature: String, contribution: Double)] {
        let ranked = (0..<features.count).sorted { abs(contributions[row, $0]) > abs(contributions[row, $1]) }
        return ranked.prefix(count).map { (features[$0], contributions[row, $0]) }
    }
}

extension TrainedModel {
    /// Whether ``explain(_:predictions:)`` works for this model's family.
    public var isExplainable: Bool { model is any ExplainableModel }

    /// Feature contributions for every row of `table`: for classification those of the
    /// predicted class's score (log-odds for two classes), for regression those of the value.
    public func explain(_ table: DataTable, predictions: Predictions, missingColumns: MissingColumnPolicy = .reject) throws -> Explanation {
        guard let explainable = model as? any ExplainableModel else {
            throw TestbedError(.unsupported, "\(algorithm) models have no per-prediction contributions; models that have them: linear, ridge, logistic, gbdt, random_forest")
        }
        let x = try preprocessor.transform(table, missingColumns: missingColumns)
        let raw = explainable.contributions(x).grouped(preprocessor.outputFeatureIndex, count: features.count)
        var contributions = Matrix(rows: raw.rows, columns: raw.width)
        var base = [Double](repeating: 0, count: raw.rows)
        let explained = task == .classification ? predictions.values.map { Int($0) } : nil
        for row in 0..<raw.rows {
            // One output for two classes is the log-odds of the second; the first's is its negative.
            let predicted = explained?[row] ?? 0
            let (output, sign) = raw.outputs == 1 ? (0, predicted == 0 && task == .classification ? -1.0 : 1.0) : (predicted, 1.0)
            base[row] = sign * raw.base[output]
            for (column, value) in raw.contributions(row: row, output: output).enumerated() { contributions[row, column] = sign * value }
        }
        return Explanation(features: features.map(\.name), scale: raw.scale, explainedClasses: explained, base: base, contributions: contributions)
    }
}

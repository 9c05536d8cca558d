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
    /// The families whose models have per-prediction contributions.
    static let explainableFamilies = "linear, ridge, logistic, gbdt, random_forest"

    /// Whether ``explain(_:predictions:missingColumns:)`` works for this model.
    public var isExplainable: Bool { explanationRefusal == nil }

    /// Why this model cannot be explained, or `nil` when it can. An ensemble can when every
    /// member can, on one scale: its contributions are then the weighted sums of theirs.
    public var explanationRefusal: String? {
        guard let ensemble else {
            return model is any ExplainableModel ? nil
                : "\(algorithm) models have no per-prediction contributions; models that have them: \(Self.explainableFamilies)"
        }
        let unexplainable = Array(Set(ensemble.members.filter { !($0.model is any ExplainableModel) }.map(\.algorithm))).sorted()
        if !unexplainable.isEmpty {
            let members = unexplainable.count == 1 ? "member \(unexplainable[0]) has" : "members \(unexplainable.joined(separator: ", ")) have"
            return "this ensemble has no per-prediction contributions: its \(members) none, and an ensemble is explained only when every member is of a family that has them: \(Self.explainableFamilies)"
        }
        let scales = ensemble.members.map { ($0.algorithm, ($0.model as! any ExplainableModel).contributionScale) }
        if Set(scales.map(\.1)).count > 1 {
            let listed = scales.map { "\($0.0): \($0.1.rawValue)" }.joined(separator: ", ")
            return "this ensemble has no per-prediction contributions: its members' contributions are on different scales (\(listed)), whose weighted sum would not add up to anything it predicts"
        }
        return nil
    }

    /// Feature contributions for every row of `table`: for classification those of the
    /// predicted class's score (log-odds for two classes), for regression those of the value.
    /// An ensemble's are the weighted sums of its members' (the predicted class being the
    /// ensemble's).
    public func explain(_ table: DataTable, predictions: Predictions, missingColumns: MissingColumnPolicy = .reject) throws -> Explanation {
        if let refusal = explanationRefusal { throw TestbedError(.unsupported, refusal) }
        let pipelines = ensemble?.members.map { ($0.weight, $0.preprocessor, $0.model) } ?? [(1, preprocessor, model)]
        let explained = task == .classification ? predictions.values.map { Int($0) } : nil
        var contributions = Matrix(rows: table.rowCount, columns: features.count)
        var base = [Double](repeating: 0, count: table.rowCount)
        var scale = ContributionScale.value
        for (weight, preprocessor, model) in pipelines {
            let x = try preprocessor.transform(table, missingColumns: missingColumns)
            let raw = (model as! any ExplainableModel).contributions(x).grouped(preprocessor.outputFeatureIndex, count: features.count)
            scale = raw.scale
            for row in 0..<raw.rows {
                // One output for two classes is the log-odds of the second; the first's is its negative.
                let predicted = explained?[row] ?? 0
                let (output, sign) = raw.outputs == 1 ? (0, predicted == 0 && task == .classification ? -1.0 : 1.0) : (predicted, 1.0)
                base[row] += weight * sign * raw.base[output]
                for (column, value) in raw.contributions(row: row, output: output).enumerated() { contributions[row, column] += weight * sign * value }
            }
        }
        return Explanation(features: features.map(\.name), scale: scale, explainedClasses: explained, base: base, contributions: contributions)
    }
}

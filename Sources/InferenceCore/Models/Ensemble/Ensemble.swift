import Foundation

/// The `ensemble` family: a weighted average of whole pipelines, chosen by greedy ensemble
/// selection (``EnsembleSelection``) over a search's candidates.
///
/// Each member keeps its own fitted preprocessing, because families prepare their inputs
/// differently (standardised for the linear models, as they are for trees); so an ensemble is
/// not a ``FittedModel`` on one matrix but a part of ``TrainedModel``. Regression averages the
/// members' values; classification averages their class probabilities and predicts the most
/// probable class of the average.
public struct Ensemble: Sendable {
    /// The name model files and leaderboards give the family.
    public static let familyName = "ensemble"

    /// The members, heaviest first; their weights sum to 1.
    public var members: [EnsembleMember]

    /// - Parameter members: at least one, weights > 0 summing to 1, heaviest first.
    public init(members: [EnsembleMember]) {
        self.members = members
    }

    /// The member whose preprocessing reads the features for the ensemble and reports the
    /// inputs' warnings: the heaviest.
    public var lead: EnsembleMember { members[0] }

    /// The weighted average of the members' outputs for `table` (one column of values for
    /// regression, one of probability per class for classification).
    /// - Parameter leadInputs: the lead member's encoding of `table`, when already made.
    public func predict(_ table: DataTable, missingColumns: MissingColumnPolicy = .reject, leadInputs: Matrix? = nil) throws -> Matrix {
        var average: Matrix?
        for (index, member) in members.enumerated() {
            let x = try index == 0 ? leadInputs ?? member.preprocessor.transform(table, missingColumns: missingColumns)
                : member.preprocessor.transform(table, missingColumns: missingColumns)
            let output = try member.model.checkedPredict(x)
            if average == nil { average = Matrix(rows: output.rows, columns: output.columns) }
            guard output.rows == average!.rows, output.columns == average!.columns else {
                throw TestbedError(.shapeMismatch, "ensemble member \(index + 1) (\(member.algorithm)) predicts \(output.rows) × \(output.columns), the first \(average!.rows) × \(average!.columns)")
            }
            for i in output.storage.indices { average!.storage[i] += member.weight * output.storage[i] }
        }
        return average!
    }

    /// The members' weights must be finite, positive and sum to 1 within this.
    static let weightTolerance = 1e-9

    /// What does not fit together in an ensemble read from a file, or `nil`: the weights, and
    /// each member's preprocessing against the model's `features` and its model.
    func inconsistency(features: [String], predictedColumns: Int) -> String? {
        guard !members.isEmpty else { return "an ensemble has no members" }
        for (index, member) in members.enumerated() {
            let name = "ensemble member \(index + 1) (\(member.algorithm))"
            guard member.weight.isFinite, member.weight > 0, member.weight <= 1 else {
                return "\(name) has the weight \(formatNumber(member.weight)); weights must be > 0 and <= 1"
            }
            guard member.preprocessor.inputColumns == features else {
                return "\(name)'s preprocessing does not read the model's features, once each and in their order"
            }
            guard member.model.inputWidth == member.preprocessor.width else {
                return "\(name) takes \(member.model.inputWidth) inputs but its preprocessing makes \(member.preprocessor.width)"
            }
            if let problem = member.model.inconsistency(predictedColumns: predictedColumns) ?? member.preprocessor.inconsistency {
                return "\(name): \(problem)"
            }
        }
        let total = members.reduce(0) { $0 + $1.weight }
        guard abs(total - 1) <= Self.weightTolerance else { return "the ensemble's weights sum to \(String(format: "%.9g", total)), not 1" }
        return nil
    }
}

/// One member of an ``Ensemble``: a whole pipeline of one family and its weight.
public struct EnsembleMember: Sendable {
    /// The member's family, one of ``AlgorithmRegistry/all``.
    public var algorithm: String
    /// Its hyper-parameters, defaults included.
    public var parameters: Hyperparameters
    /// Its share of the average, in (0, 1].
    public var weight: Double
    public var preprocessor: Preprocessor
    public var model: any FittedModel

    public init(algorithm: String, parameters: Hyperparameters, weight: Double, preprocessor: Preprocessor, model: any FittedModel) {
        self.algorithm = algorithm
        self.parameters = parameters
        self.weight = weight
        self.preprocessor = preprocessor
        self.model = model
    }
}

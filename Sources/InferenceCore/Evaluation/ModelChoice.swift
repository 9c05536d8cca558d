/// A table prepared for one algorithm, with its cross-validated quality: the common first half of
/// `testbed train` and `testbed evaluate`. With `spec.algorithm == "auto"`, a ``ModelSearch``
/// picks the algorithm first and its winner's evaluation (on the same folds) is kept.
public struct ModelChoice: Sendable {
    public var prepared: PreparedData
    /// The chosen algorithm's hyper-parameters, defaults included.
    public var parameters: Hyperparameters
    /// `nil` when not cross-validated.
    public var evaluation: CrossValidationResult?
    /// With `auto`: every candidate, best first.
    public var leaderboard: [LeaderboardEntry]?
    /// What was inferred, left out or chosen, for the person running it.
    public var notes: [String]

    /// - Parameters:
    ///   - crossValidate: whether to cross-validate with `spec.folds` folds; `auto` always does.
    ///   - importance: measure feature importances during the cross-validation.
    ///   - timeBudget: seconds for an `auto` search.
    ///   - progress: called at every fold and every finished `auto` candidate; throwing from it stops.
    public init(_ table: DataTable, spec: TrainingSpec, crossValidate: Bool, importance: Bool = false, timeBudget: Double = 300,
                progress: @escaping TrainingProgressHandler = { _ in }) throws {
        var spec = spec
        var searchNotes: [String] = []
        if spec.algorithm == "auto" {
            guard crossValidate else {
                throw TestbedError(.invalidParameter, "auto compares algorithms by cross-validation: folds == \(spec.folds), must be >= 2")
            }
            let search = try ModelSearch(timeBudget: timeBudget).run(table, spec: spec, progress: TrainingProgress.scaled(progress, to: 0...0.8))
            (spec.algorithm, spec.parameters) = (search.winner.algorithm, search.winner.parameters)
            (leaderboard, evaluation, searchNotes) = (search.leaderboard, search.evaluation, search.notes)
        }
        prepared = try PreparedData(table, spec: spec)
        parameters = try prepared.algorithm.resolve(spec.parameters)
        // The search ranks without importances; the winner is measured again (same folds) to get them.
        if crossValidate && (evaluation == nil || (importance && evaluation?.importance == nil)) {
            let range = leaderboard != nil ? 0.8...0.95 : 0...0.95
            evaluation = try prepared.crossValidate(folds: spec.folds, parameters: parameters, seed: spec.seed, importance: importance,
                                                    progress: TrainingProgress.scaled(progress, to: range))
        }
        notes = prepared.notes + (evaluation?.notes ?? []) + searchNotes
    }
}

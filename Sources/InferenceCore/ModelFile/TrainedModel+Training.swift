import Foundation

extension TrainedModel {
    /// Trains a model as `testbed train` does: prepares the table, cross-validates with
    /// `spec.folds` folds (skipped when fewer than 2) for an honest quality figure, then fits on
    /// every row.
    ///
    /// - Parameters:
    ///   - sourceFile: the training file's name, recorded in the model.
    ///   - sourceSHA256: the training file's digest, recorded in the model.
    ///
    /// With `spec.algorithm == "auto"`, a ``ModelSearch`` within `timeBudget` seconds picks the
    /// algorithm, and the model carries its leaderboard.
    public static func train(_ table: DataTable, spec: TrainingSpec, sourceFile: String? = nil, sourceSHA256: String? = nil,
                             timeBudget: Double = 300, progress: (String) -> Void = { _ in }) throws -> TrainedModel {
        var spec = spec
        var leaderboard: [LeaderboardEntry]?
        var evaluation: CrossValidationResult?
        var searchNotes: [String] = []
        if spec.algorithm == "auto" {
            guard spec.folds >= 2 else {
                throw TestbedError(.invalidParameter, "auto compares algorithms by cross-validation: folds == \(spec.folds), must be >= 2")
            }
            let search = try ModelSearch(timeBudget: timeBudget).run(table, spec: spec, progress: progress)
            (spec.algorithm, spec.parameters) = (search.winner.algorithm, search.winner.parameters)
            (leaderboard, evaluation, searchNotes) = (search.leaderboard, search.evaluation, search.notes)
        }
        let prepared = try PreparedData(table, spec: spec)
        let parameters = try prepared.algorithm.resolve(spec.parameters)
        if evaluation == nil && spec.folds >= 2 {
            evaluation = try prepared.crossValidate(folds: spec.folds, parameters: parameters, seed: spec.seed)
        }
        let (preprocessor, model) = try prepared.fit(parameters: parameters, seed: spec.seed)
        let record = TrainingRecord(
            rows: prepared.table.rowCount, sourceFile: sourceFile, sourceSHA256: sourceSHA256, seed: spec.seed,
            evaluation: evaluation, leaderboard: leaderboard,
            featureSummaries: try prepared.features.map { try FeatureSummary($0, in: prepared.table) },
            notes: prepared.notes + (evaluation?.notes ?? []) + searchNotes)
        return TrainedModel(algorithm: prepared.algorithm.name, parameters: parameters, task: prepared.target.task,
                            target: spec.target, classes: prepared.target.classes, features: prepared.features,
                            preprocessor: preprocessor, model: model, training: record)
    }
}

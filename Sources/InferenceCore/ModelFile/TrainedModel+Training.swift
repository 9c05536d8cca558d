import Foundation

extension TrainedModel {
    /// Trains a model as `testbed train` does: prepares the table, cross-validates with
    /// `spec.folds` folds (skipped when fewer than 2) for an honest quality figure, then fits on
    /// every row.
    ///
    /// - Parameters:
    ///   - sourceFile: the training file's name, recorded in the model.
    ///   - sourceSHA256: the training file's digest, recorded in the model.
    public static func train(_ table: DataTable, spec: TrainingSpec, sourceFile: String? = nil, sourceSHA256: String? = nil) throws -> TrainedModel {
        let prepared = try PreparedData(table, spec: spec)
        let parameters = try prepared.algorithm.resolve(spec.parameters)
        let evaluation = spec.folds >= 2 ? try prepared.crossValidate(folds: spec.folds, parameters: parameters, seed: spec.seed) : nil
        let (preprocessor, model) = try prepared.fit(parameters: parameters, seed: spec.seed)
        let record = TrainingRecord(
            rows: prepared.table.rowCount, sourceFile: sourceFile, sourceSHA256: sourceSHA256, seed: spec.seed,
            evaluation: evaluation,
            featureSummaries: try prepared.features.map { try FeatureSummary($0, in: prepared.table) },
            notes: prepared.notes + (evaluation?.notes ?? []))
        return TrainedModel(algorithm: prepared.algorithm.name, parameters: parameters, task: prepared.target.task,
                            target: spec.target, classes: prepared.target.classes, features: prepared.features,
                            preprocessor: preprocessor, model: model, training: record)
    }
}

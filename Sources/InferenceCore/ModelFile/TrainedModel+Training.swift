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
    /// With a search as `spec.algorithm`, a ``ModelSearch`` within `timeBudget` seconds picks the
    /// algorithm, and the model carries its leaderboard.
    public static func train(_ table: DataTable, spec: TrainingSpec, sourceFile: String? = nil, sourceSHA256: String? = nil,
                             timeBudget: Double = 300, progress: @escaping TrainingProgressHandler = { _ in }) throws -> TrainedModel {
        let deadline = Date(timeIntervalSinceNow: timeBudget)
        let choice = try ModelChoice(table, spec: spec, crossValidate: spec.folds >= 2, importance: true,
                                     timeBudget: timeBudget, ensembles: true, progress: progress)
        if let search = choice.search, let selection = choice.ensemble {
            return try searchEnsemble(selection, of: search, choice, table: table, spec: spec, sourceFile: sourceFile, sourceSHA256: sourceSHA256,
                                      deadline: deadline, progress: progress)
        }
        let (prepared, parameters) = (choice.prepared, choice.parameters)
        try progress(TrainingProgress(fraction: 0.95, message: "fitting \(prepared.algorithm.name) on all \(prepared.table.rowCount) rows"))
        let (preprocessor, model) = try prepared.fit(parameters: parameters, seed: spec.seed)
        let record = TrainingRecord(
            rows: prepared.table.rowCount, sourceFile: sourceFile, sourceSHA256: sourceSHA256, seed: spec.seed,
            evaluation: choice.evaluation, randomFolds: choice.randomFolds, leaderboard: choice.leaderboard,
            featureSummaries: try prepared.features.map { try FeatureSummary($0, in: prepared.table) },
            warnings: choice.warnings, notes: choice.notes)
        var trained = TrainedModel(algorithm: prepared.algorithm.name, parameters: parameters, task: prepared.target.task,
                                   target: spec.target, classes: prepared.target.classes, features: prepared.features,
                                   preprocessor: preprocessor, model: model, training: record)
        trained.training.driftReference = try DriftReference(features: prepared.features, table: prepared.table,
                                                             predictions: trained.inSamplePredictions(prepared.table))
        return trained
    }

    /// With `auto`: the ensemble ``ModelChoice`` chose from the search's candidates, fitted on
    /// every row. Its card figure, as a single winner's would be, comes from the rows held out of
    /// the search, and so do its feature importances (permutation only, as many shuffles as fit
    /// before `deadline`).
    private static func searchEnsemble(_ selection: EnsembleSelection.Result, of search: ModelSearchResult, _ choice: ModelChoice,
                                       table: DataTable, spec: TrainingSpec, sourceFile: String?, sourceSHA256: String?,
                                       deadline: Date, progress: @escaping TrainingProgressHandler) throws -> TrainedModel {
        let candidates = search.outOfFold.map { Candidate($0.candidate.algorithm, $0.parameters) }
        let members = selection.members.map { (candidate: candidates[$0.candidate], weight: $0.weight) }
        var model = try ensemble(of: members, outOfFold: selection.members.map { search.outOfFold[$0.candidate].predictions },
                                 rows: search.outOfFoldRows.rows, folds: search.outOfFoldRows.folds, table: table, spec: spec,
                                 leaderboard: choice.leaderboard, warnings: choice.warnings,
                                 notes: choice.notes + [selectionNote(selection, candidates: candidates)],
                                 sourceFile: sourceFile, sourceSHA256: sourceSHA256, progress: progress)
        if !search.holdOutRows.isEmpty, let inner = model.training.evaluation?.metrics {
            try progress(TrainingProgress(fraction: 0.99, message: "scoring the ensemble on the \(search.holdOutRows.count) held-out rows"))
            let fitted = try members.map { member in
                let prepared = try PreparedData(table, spec: Self.spec(spec, for: member.candidate))
                return (prepared: prepared, parameters: try prepared.algorithm.resolve(member.candidate.parameters), weight: member.weight)
            }
            let measured = try OuterHoldOut.measure(ensemble: fitted, seed: spec.seed, selection: search.outOfFoldRows.rows,
                                                    holdOut: search.holdOutRows, innerMetrics: inner, deadline: deadline)
            model.training.evaluation?.outerHoldOut = measured.holdOut
            model.training.evaluation?.importance = measured.importance
            if measured.repeats < PermutationImportance.repeats {
                model.training.notes.append(measured.importance == nil
                    ? "the time budget left no time for the ensemble's feature importances (each feature's column shuffled among the held-out rows); give auto more time to have them"
                    : "the ensemble's feature importances rest on \(measured.repeats) shuffle\(measured.repeats == 1 ? "" : "s") of each feature's column instead of \(PermutationImportance.repeats), to keep within the time budget")
            }
        }
        return model
    }

    /// The model's predictions of its own training rows, for the drift reference: values or
    /// predicted classes only, without the warnings, intervals and sets of ``predict(_:missingColumns:)``.
    func inSamplePredictions(_ table: DataTable) throws -> Predictions {
        let output = try outputs(table, encoded: preprocessor.transform(table))
        let values = task == .regression ? output.storage : ClassificationMetrics.predictedClasses(output).map(Double.init)
        return Predictions(task: task, values: values, probabilities: nil, classes: classes, warnings: [])
    }
}

import Foundation

extension TrainedModel {
    /// Greedy ensemble selection over a search's candidates, and the ensemble when it beats the
    /// best single candidate on their out-of-fold predictions.
    ///
    /// - Parameters:
    ///   - candidates: the fully cross-validated candidates.
    ///   - outOfFold: per candidate, its out-of-fold predictions on `spec`'s folds (see
    ///     ``PreparedData/outOfFoldPredictions(parameters:seed:)``), or on `folds` of `rows`.
    ///   - rows: the positions in the prepared table of the predictions' rows (`nil`: all rows).
    ///   - folds: the folds the predictions were made on, as positions into `rows` (`nil`:
    ///     `spec`'s, which needs all rows).
    ///   - rounds: the selection's rounds (see ``EnsembleSelection``).
    /// - Returns: the selection, and the ensemble fitted on every row when the selection
    ///   ``EnsembleSelection/Result/improves``; `nil` as the model otherwise.
    public static func ensembleIfBetter(of candidates: [Candidate], outOfFold: [Matrix], rows: [Int]? = nil, folds: [Fold]? = nil,
                                        table: DataTable, spec: TrainingSpec,
                                        rounds: Int = EnsembleSelection.defaultRounds, leaderboard: [LeaderboardEntry]? = nil,
                                        warnings: [String]? = nil, notes: [String] = [], sourceFile: String? = nil, sourceSHA256: String? = nil,
                                        progress: @escaping TrainingProgressHandler = { _ in })
        throws -> (model: TrainedModel?, selection: EnsembleSelection.Result) {
        guard let first = candidates.first, candidates.count == outOfFold.count else {
            throw TestbedError(.invalidParameter, "an ensemble needs at least one candidate and out-of-fold predictions for each; given \(candidates.count) candidates and \(outOfFold.count) sets of predictions")
        }
        let target = try PreparedData(table, spec: Self.spec(spec, for: first)).target
        try Self.check(rows: rows, folds: folds, of: target)
        let actual = rows.map { $0.map { target.values[$0] } } ?? target.values
        let selection = try EnsembleSelection.select(outOfFold: outOfFold, actual: actual, task: target.task, rounds: rounds)
        guard selection.improves else { return (nil, selection) }
        let members = selection.members.map { (candidates[$0.candidate], $0.weight, outOfFold[$0.candidate]) }
        let model = try ensemble(of: members.map { ($0.0, $0.1) }, outOfFold: members.map(\.2), rows: rows, folds: folds, table: table, spec: spec,
                                 leaderboard: leaderboard, warnings: warnings, notes: notes + [Self.selectionNote(selection, candidates: candidates)],
                                 sourceFile: sourceFile, sourceSHA256: sourceSHA256, progress: progress)
        return (model, selection)
    }

    /// An ensemble of `members` (whole pipelines, each fitted on every row of `table`) with
    /// their weights; its evaluation is that of the weighted average of their out-of-fold
    /// predictions, on the folds they were made on.
    ///
    /// - Parameters:
    ///   - members: candidates and weights, weights > 0 summing to 1.
    ///   - outOfFold: per member, its out-of-fold predictions on `spec`'s folds, or on `folds` of `rows`.
    ///   - rows: the positions in the prepared table of the predictions' rows (`nil`: all rows).
    ///   - folds: the folds the predictions were made on, as positions into `rows` (`nil`:
    ///     `spec`'s, which needs all rows).
    ///   - leaderboard: the search's; an entry for the ensemble is added in its rank.
    ///   - warnings: the search's signs that the figures are too good to be true (``ModelChoice/warnings``).
    ///   - notes: what was inferred or chosen; the prepared data's notes are added before them.
    public static func ensemble(of members: [(candidate: Candidate, weight: Double)], outOfFold: [Matrix], rows: [Int]? = nil, folds: [Fold]? = nil,
                                table: DataTable, spec: TrainingSpec,
                                leaderboard: [LeaderboardEntry]? = nil, warnings: [String]? = nil, notes: [String] = [], sourceFile: String? = nil,
                                sourceSHA256: String? = nil, progress: @escaping TrainingProgressHandler = { _ in }) throws -> TrainedModel {
        guard !members.isEmpty, members.count == outOfFold.count else {
            throw TestbedError(.invalidParameter, "an ensemble needs at least one member and out-of-fold predictions for each; given \(members.count) members and \(outOfFold.count) sets of predictions")
        }
        let total = members.reduce(0) { $0 + $1.weight }
        guard members.allSatisfy({ $0.weight.isFinite && $0.weight > 0 }), abs(total - 1) <= Ensemble.weightTolerance else {
            throw TestbedError(.invalidParameter, "ensemble weights \(members.map { formatNumber($0.weight) }.joined(separator: ", ")) must be > 0 and sum to 1")
        }
        let order = members.indices.sorted { members[$0].weight != members[$1].weight ? members[$0].weight > members[$1].weight : $0 < $1 }
        // The figures first: bad predictions are refused before any member is fitted.
        let data = try PreparedData(table, spec: Self.spec(spec, for: members[order[0]].candidate))
        try Self.check(rows: rows, folds: folds, of: data.target)
        let target = rows.map { data.target.selecting($0) } ?? data.target
        let width = target.task == .regression ? 1 : target.classes.count
        var average = Matrix(rows: target.values.count, columns: width)
        for index in order {
            guard outOfFold[index].rows == average.rows, outOfFold[index].columns == width else {
                throw TestbedError(.shapeMismatch, "member \(index + 1)'s out-of-fold predictions are \(outOfFold[index].rows) × \(outOfFold[index].columns), expected \(average.rows) × \(width)")
            }
            for i in average.storage.indices { average.storage[i] += members[index].weight * outOfFold[index].storage[i] }
        }
        let (evaluationFolds, foldNotes) = try folds.map { ($0, []) } ?? FoldSplitter(plan: data.plan, seed: spec.seed).split(data.target, table: data.table)
        if let bad = evaluationFolds.lazy.flatMap(\.test).first(where: { !target.values.indices.contains($0) }) {
            throw TestbedError(.invalidParameter, "a fold tests row \(bad), beyond the \(target.values.count) out-of-fold rows")
        }
        let evaluation = CrossValidationResult(outOfFold: average, folds: evaluationFolds, target: target, plan: data.plan,
                                               coverage: data.coverage, notes: foldNotes)

        var fitted: [EnsembleMember] = []
        for (step, index) in order.enumerated() {
            let (candidate, weight) = members[index]
            let prepared = step == 0 ? data : try PreparedData(table, spec: Self.spec(spec, for: candidate))
            let parameters = try prepared.algorithm.resolve(candidate.parameters)
            try progress(TrainingProgress(fraction: 0.95 + 0.04 * Double(step) / Double(order.count),
                                          message: "fitting ensemble member \(step + 1) of \(order.count), \(ModelSearch.describe(candidate)), on all \(prepared.table.rowCount) rows"))
            let (preprocessor, model) = try prepared.fit(parameters: parameters, seed: spec.seed)
            fitted.append(EnsembleMember(algorithm: candidate.algorithm, parameters: parameters, weight: weight, preprocessor: preprocessor, model: model))
        }
        let ensemble = Ensemble(members: fitted)
        let record = TrainingRecord(
            rows: data.table.rowCount, sourceFile: sourceFile, sourceSHA256: sourceSHA256, seed: spec.seed, evaluation: evaluation,
            randomFolds: nil, leaderboard: leaderboard.map { Self.ranking(ensemble, evaluation, into: $0, task: data.target.task) },
            featureSummaries: try data.features.map { try FeatureSummary($0, in: data.table) }, warnings: warnings, notes: data.notes + notes)
        var trained = TrainedModel(ensemble: ensemble, task: data.target.task, target: spec.target, classes: data.target.classes,
                                   features: data.features, training: record)
        trained.training.driftReference = try DriftReference(features: data.features, table: data.table,
                                                             predictions: trained.inSamplePredictions(data.table))
        return trained
    }

    /// The cross-validation of an ensemble's recipe (its members' families, hyper-parameters and
    /// weights) on `table` with the folds of `plan`: each member cross-validated alone, their
    /// out-of-fold predictions averaged with the weights; nothing is fitted on every row. For
    /// comparing a new model with a serving ensemble on the new model's folds.
    public static func ensembleCrossValidation(of members: [(candidate: Candidate, weight: Double)], table: DataTable, spec: TrainingSpec,
                                               plan: ValidationPlan) throws -> CrossValidationResult {
        guard !members.isEmpty, members.allSatisfy({ $0.weight.isFinite && $0.weight > 0 }) else {
            throw TestbedError(.invalidParameter, "an ensemble needs at least one member, each with a weight > 0")
        }
        var average: Matrix?
        var prepared: PreparedData?
        for (candidate, weight) in members {
            var data = try PreparedData(table, spec: Self.spec(spec, for: candidate))
            data.plan = plan
            let outOfFold = try data.outOfFoldPredictions(parameters: data.algorithm.resolve(candidate.parameters), seed: spec.seed)
            if average == nil { average = Matrix(rows: outOfFold.rows, columns: outOfFold.columns) }
            for i in outOfFold.storage.indices { average!.storage[i] += weight * outOfFold.storage[i] }
            prepared = prepared ?? data
        }
        let data = prepared!
        let (folds, notes) = try FoldSplitter(plan: plan, seed: spec.seed).split(data.target, table: data.table)
        return CrossValidationResult(outOfFold: average!, folds: folds, target: data.target, plan: plan, coverage: data.coverage, notes: notes)
    }

    /// Checks that `rows` are rows of `target` and come with their folds.
    private static func check(rows: [Int]?, folds: [Fold]?, of target: Target) throws {
        if let rows, let bad = rows.first(where: { !target.values.indices.contains($0) }) {
            throw TestbedError(.invalidParameter, "out-of-fold row \(bad) is not a row of the prepared table (\(target.values.count) rows)")
        }
        guard folds != nil || rows == nil else {
            throw TestbedError(.invalidParameter, "out-of-fold predictions of some rows need the folds they were made on")
        }
    }

    /// `spec` for one candidate.
    static func spec(_ spec: TrainingSpec, for candidate: Candidate) -> TrainingSpec {
        var candidateSpec = spec
        (candidateSpec.algorithm, candidateSpec.parameters) = (.named(candidate.algorithm), candidate.parameters)
        return candidateSpec
    }

    /// `leaderboard` with an entry for the ensemble in its rank; its seconds per fold are its
    /// members' together, where the leaderboard has them.
    private static func ranking(_ ensemble: Ensemble, _ evaluation: CrossValidationResult, into leaderboard: [LeaderboardEntry],
                                task: LearningTask) -> [LeaderboardEntry] {
        let seconds = ensemble.members.reduce(0.0) { total, member in
            total + (leaderboard.first { $0.algorithm == member.algorithm && $0.params == member.parameters }?.fitSeconds ?? 0)
        }
        let entry = LeaderboardEntry(algorithm: Ensemble.familyName, params: [:], metrics: evaluation.metrics,
                                     metricsStd: evaluation.metricsStd, fitSeconds: seconds, outcome: .evaluated, foldsEvaluated: evaluation.folds)
        var ranked = leaderboard
        let position = ranked.firstIndex { ModelSearch.rankingKey(entry.metrics, task: task) < ModelSearch.rankingKey($0.metrics, task: task) } ?? ranked.count
        ranked.insert(entry, at: position)
        return ranked
    }

    /// What the selection chose, for the model's notes.
    static func selectionNote(_ selection: EnsembleSelection.Result, candidates: [Candidate]) -> String {
        let members = selection.members.map { "\(ModelSearch.describe(candidates[$0.candidate])) × \(formatNumber($0.weight))" }
        return "greedy ensemble selection over \(candidates.count) candidates' out-of-fold predictions kept \(members.joined(separator: ", ")) after \(selection.rounds) rounds: out-of-fold score \(selection.score) against \(selection.bestSingleScore) for \(ModelSearch.describe(candidates[selection.bestSingle])) alone"
    }
}

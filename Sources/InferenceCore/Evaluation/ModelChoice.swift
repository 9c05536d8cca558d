import Foundation

/// A table prepared for one algorithm, with its cross-validated quality: the common first half of
/// `testbed train` and `testbed evaluate`. With a search as `spec.algorithm`, a ``ModelSearch``
/// picks the algorithm first and its winner's evaluation (on the same folds) is kept.
public struct ModelChoice: Sendable {
    public var prepared: PreparedData
    /// The chosen algorithm's hyper-parameters, defaults included.
    public var parameters: Hyperparameters
    /// `nil` when not cross-validated.
    public var evaluation: CrossValidationResult?
    /// With `auto`: every candidate, best first.
    public var leaderboard: [LeaderboardEntry]?
    /// With `auto`: the whole search, with every evaluated candidate's out-of-fold predictions.
    public var search: ModelSearchResult?
    /// With `auto` and `ensembles`: the greedy selection over the candidates' out-of-fold
    /// predictions, when its weighted average beats the best single candidate there and its
    /// members can be fitted within the budget. ``prepared`` and ``evaluation`` are then the best
    /// single candidate's, for the leakage checks, without importances or a held-out figure.
    public var ensemble: EnsembleSelection.Result?
    /// With time-ordered folds: the same algorithm on random folds, to show how much they flatter.
    public var randomFolds: SchemeComparison?
    /// Signs that the figures are too good to be true (leakage, dependent rows), each naming
    /// the column and what to do.
    public var warnings: [String] = []
    /// What was inferred, left out or chosen, for the person running it.
    public var notes: [String]

    /// - Parameters:
    ///   - crossValidate: whether to cross-validate with `spec.folds` folds; `auto` always does.
    ///   - importance: measure feature importances during the cross-validation.
    ///   - timeBudget: seconds for an `auto` search and what follows it here.
    ///   - ensembles: with `auto`, consider an ensemble of the candidates (see ``ensemble``).
    ///   - progress: called at every fold and every finished `auto` candidate; throwing from it stops.
    public init(_ table: DataTable, spec: TrainingSpec, crossValidate: Bool, importance: Bool = false, timeBudget: Double = 300,
                ensembles: Bool = false, progress: @escaping TrainingProgressHandler = { _ in }) throws {
        let start = Date()
        var spec = spec
        var searchNotes: [String] = []
        var outer: (selection: [Int], holdOut: [Int])?
        if spec.algorithm.isSearch {
            guard crossValidate else {
                throw TestbedError(.invalidParameter, "auto compares algorithms by cross-validation: folds == \(spec.folds), must be >= 2")
            }
            // Part of the rows is kept from the search, to score its winner on (see OuterHoldOut).
            var baseSpec = spec
            (baseSpec.algorithm, baseSpec.parameters) = (.taskDefault, [:])
            let base = try PreparedData(table, spec: baseSpec)
            outer = OuterHoldOut.split(base, seed: spec.seed)
            var search = try ModelSearch(timeBudget: timeBudget).run(outer.map { base.table.selectingRows($0.selection) } ?? table, spec: spec,
                                                                     progress: TrainingProgress.scaled(progress, to: 0...0.8))
            (spec.algorithm, spec.parameters) = (.named(search.winner.algorithm), search.winner.parameters)
            (leaderboard, searchNotes) = (search.leaderboard, search.notes)
            if let outer {
                search.outOfFoldRows.rows = outer.selection
                search.holdOutRows = outer.holdOut
            } else {
                evaluation = search.evaluation
                searchNotes.append("the table has fewer than \(OuterHoldOut.minimumRows) rows, too few to hold some out: the figures are the inner cross-validation's, flattered by the choice among candidates")
            }
            self.search = search
        }
        prepared = try PreparedData(table, spec: spec)
        parameters = try prepared.algorithm.resolve(spec.parameters)
        if ensembles, let search {
            ensemble = try Self.affordableEnsemble(search, prepared: prepared, secondsLeft: timeBudget - Date().timeIntervalSince(start),
                                                   notes: &searchNotes)
            if ensemble != nil { evaluation = search.evaluation }
        }
        // After a search, what follows it keeps to the budget: the search kept time back for it,
        // but it may have stopped early, and the importances and checks can cost more than
        // measured. Each extra runs only while it fits (the winner's timing from its folds);
        // fitting the winner for the held-out figure and on every row always does.
        let timing = search?.winnerOutOfFold
        let folds = Double(search?.outOfFoldRows.folds.count ?? 0)
        let rowCount = prepared.table.rowCount
        let fitScale = search.map { ModelSearch.fitScale(rows: rowCount, folds: $0.outOfFoldRows.folds) } ?? 1
        func fitsInBudget(_ seconds: Double) -> Bool {
            timing == nil || Date().timeIntervalSince(start) + seconds + 2 * fitScale * timing!.refitSeconds <= timeBudget
        }
        var measureAgain = crossValidate && ensemble == nil && (evaluation == nil || (importance && evaluation?.importance == nil))
        if measureAgain, let search, let timing, importance,
           !fitsInBudget(timing.refitSeconds * folds * 1.25
                         + ModelSearch.importanceSeconds(predictSeconds: timing.predictSeconds, folds: Int(folds), features: prepared.features.count)) {
            (evaluation, measureAgain) = (search.evaluation, false)
            searchNotes.append("the time budget left no time to cross-validate the winner again for its feature importances; give auto more time to have them")
        }
        // The search ranks without importances; the winner is measured again (same folds) to get them.
        if measureAgain {
            let range = leaderboard != nil ? 0.8...0.9 : 0...0.9
            evaluation = try prepared.crossValidate(parameters: parameters, seed: spec.seed, importance: importance,
                                                    progress: TrainingProgress.scaled(progress, to: range))
        }
        if let outer, let search, evaluation != nil, ensemble == nil {
            try progress(TrainingProgress(fraction: 0.9, message: "scoring the winner on the \(outer.holdOut.count) held-out rows"))
            evaluation?.outerHoldOut = try OuterHoldOut.measure(prepared, parameters: parameters, seed: spec.seed, selection: outer.selection,
                                                                holdOut: outer.holdOut, innerMetrics: search.evaluation.metrics)
        }
        notes = prepared.notes + (evaluation?.notes ?? []) + searchNotes
        if let evaluation {
            try progress(TrainingProgress(fraction: 0.9, message: "checking the figures for leakage"))
            warnings = LeakageCheck.targetCopies(prepared) + LeakageCheck.rowCounters(prepared)
            if fitsInBudget(folds * (timing?.refitSeconds ?? 0)),
               let single = LeakageCheck.singleFeature(prepared, evaluation: evaluation, parameters: parameters, seed: spec.seed) {
                warnings.append(single)
            }
            if prepared.plan.scheme == .time && !fitsInBudget(folds * 1.25 * (timing?.refitSeconds ?? 0)) {
                notes.append("the time budget left no time to compare the time-ordered folds with random ones; give auto more time to have the comparison")
            } else if prepared.plan.scheme == .time {
                let random = try prepared.crossValidate(plan: .random(folds: prepared.plan.folds), parameters: parameters, seed: spec.seed)
                let comparison = SchemeComparison(scheme: .random, metrics: random.metrics, metricsStd: random.metricsStd)
                randomFolds = comparison
                if let gap = LeakageCheck.schemeGap(time: evaluation, random: comparison, task: prepared.target.task) { warnings.append(gap) }
            }
        }
    }

    /// Greedy ensemble selection over `search`'s candidates, when it beats the best single one
    /// and fitting its members (``ModelSearch/ensembleSeconds(winnerRefit:folds:timeOrdered:memberRefits:fitScale:)``), besides the leakage checks
    /// of the best single candidate, fits in `secondsLeft`; a note says when it did not.
    private static func affordableEnsemble(_ search: ModelSearchResult, prepared: PreparedData, secondsLeft: Double,
                                           notes: inout [String]) throws -> EnsembleSelection.Result? {
        let rows = search.outOfFoldRows
        // Probabilities in another class order (a class only among the held-out rows) cannot be averaged into this model's.
        guard search.outOfFold.count >= 2, rows.task == .regression || rows.classes == prepared.target.classes else { return nil }
        let selection = try EnsembleSelection.select(outOfFold: search.outOfFold.map(\.predictions), actual: rows.actual, task: rows.task)
        guard selection.improves else { return nil }
        let members = selection.members.map { search.outOfFold[$0.candidate] }
        let needed = ModelSearch.ensembleSeconds(winnerRefit: search.winnerOutOfFold?.refitSeconds ?? 0, folds: rows.folds.count,
                                                 timeOrdered: prepared.plan.scheme == .time, memberRefits: members.map(\.refitSeconds),
                                                 fitScale: ModelSearch.fitScale(rows: prepared.table.rowCount, folds: rows.folds))
        guard needed <= secondsLeft else {
            notes.append("an ensemble of \(members.count) candidates scored better out of fold (\(selection.score) against \(selection.bestSingleScore)), but fitting it needs about \(String(format: "%.1f", needed)) s and \(String(format: "%.1f", max(secondsLeft, 0))) s of the budget were left: the best single candidate is kept")
            return nil
        }
        return selection
    }
}

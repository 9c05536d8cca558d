import Foundation

/// The state of one ``ModelSearch`` run: the shared folds, what has been tried, the best so far,
/// and the clock.
struct SearchSession {
    /// One evaluated candidate.
    struct Finished {
        var candidate: Candidate
        var parameters: Hyperparameters
        var entry: LeaderboardEntry
        var evaluation: CrossValidationResult
        var outOfFold: Matrix
        /// The primary metric on each fold, for paired comparisons.
        var foldScores: [Double]
        var secondsPerFold: Double
        /// What fitting it alone on a fold's rows takes, about: its seconds per fold, or for a
        /// penalty of a regularization path the whole path's (a fit from zeros costs up to that).
        var refitSeconds: Double
        /// What one fold's predictions took: a feature's permutation importance costs a few of them.
        var predictSeconds: Double
    }

    /// One fold's preprocessed rows for one kind of preprocessing.
    struct FoldMatrices {
        var trainX: Matrix
        var testX: Matrix
        var trainTarget: Target
    }

    let spec: TrainingSpec
    let task: LearningTask
    let metric: String
    let budget: Double
    let progress: TrainingProgressHandler
    let start = Date()
    /// The table prepared once; every candidate uses its rows, target, features and folds.
    let base: PreparedData
    let folds: [Fold]
    let foldNotes: [String]
    /// Preprocessed folds are kept while they take at most this many numbers in all.
    static let cacheLimit = 30_000_000
    private var cacheKeys: [PreprocessingOptions] = []
    private var cache: [[Int: FoldMatrices]] = []
    private let cacheFolds: Bool

    private(set) var finished: [Finished] = []
    /// Candidates discarded early, failed or stopped for time.
    private(set) var incomplete: [LeaderboardEntry] = []
    private(set) var tried: [Candidate] = []
    private(set) var bestIndex: Int?
    private var tested: [Bool] = []
    /// Per family: the largest seconds per fold per unit of ``SearchSpace/cost(_:_:featureShare:)`` seen.
    private var unitSeconds: [String: Double] = [:]
    var notes: [String] = []
    /// Set when the budget ended the search: what ran out, for the notes.
    var budgetStop: String?
    private var converged = false

    init(table: DataTable, spec: TrainingSpec, task: LearningTask, budget: Double, progress: @escaping TrainingProgressHandler) throws {
        var baseSpec = spec
        baseSpec.algorithm = .taskDefault
        baseSpec.parameters = [:]
        base = try PreparedData(table, spec: baseSpec)
        (folds, foldNotes) = try FoldSplitter(plan: base.plan, seed: spec.seed).split(base.target, table: base.table)
        self.spec = spec
        self.task = task
        self.metric = ModelSearch.primaryMetric(for: task)
        self.budget = budget
        self.progress = progress
        let width = base.features.count
        cacheFolds = base.table.rowCount * max(width, 1) * folds.count * 2 <= Self.cacheLimit
    }

    var elapsed: Double { Date().timeIntervalSince(start) }

    private var fraction: Double { min(elapsed / budget, 1) }

    /// Time kept for what follows the search: the winner measured again for feature importances
    /// (a fit and a few predictions per feature each fold, about two fits' time) and the leakage
    /// checks, the time-ordered folds compared with random ones, the hold-out and final fits.
    /// With 2 × folds + 3 fits, Satellite (60 s) overran by 19% on a loaded machine. The
    /// importances' predictions are not kept back for: they are left out when the time is short
    /// (see ``ModelChoice``), rather than shortening the search for them.
    /// An ensemble of the candidates, when it wins, needs instead the leakage checks and its
    /// members' fits (``ModelSearch/ensembleSeconds(winnerRefit:folds:timeOrdered:memberRefits:fitScale:)``), of the best few so far; the larger is kept.
    var reserve: Double {
        guard let best = bestIndex.map({ finished[$0] }) else { return 0 }
        let timeChecks = base.plan.scheme == .time ? folds.count : 0
        let single = best.refitSeconds * Double(3 * folds.count + 3 + timeChecks)
        let likelyMembers = finished.sorted { ModelSearch.rankingKey($0.entry.metrics, task: task) < ModelSearch.rankingKey($1.entry.metrics, task: task) }
            .prefix(ModelSearch.likelyEnsembleMembers).map(\.refitSeconds)
        // The final fits are on every row: the search's and, usually, a held-out fifth more.
        let ensemble = ModelSearch.ensembleSeconds(winnerRefit: best.refitSeconds, folds: folds.count, timeOrdered: timeChecks > 0,
                                                   memberRefits: likelyMembers,
                                                   fitScale: 1.25 * ModelSearch.fitScale(rows: base.table.rowCount, folds: folds))
        return max(single, ensemble)
    }

    /// The seconds the search itself may use.
    var searchBudget: Double { budget - reserve }

    private var featureShare: Double {
        let width = Double(max(base.features.count, 1))
        return task == .classification ? max(width.squareRoot().rounded(.down), 1) / width : 1
    }

    /// Whether `candidate`'s first fold is expected to end within the budget, judged by its
    /// family's measured folds (with a margin); a family not yet measured may start while time remains.
    func canStart(_ candidate: Candidate) -> Bool {
        guard let unit = unitSeconds[candidate.algorithm] else { return elapsed < searchBudget }
        return elapsed + 1.5 * unit * SearchSpace.cost(candidate.algorithm, candidate.parameters, featureShare: featureShare) <= searchBudget
    }

    // MARK: Evaluating

    /// The folds' preprocessed matrices for `options`, made once per fold while they fit the cache.
    private mutating func foldData(_ algorithm: Algorithm, fold index: Int) throws -> FoldMatrices {
        var options = algorithm.preprocessing
        options.missingIndicators = spec.missingIndicators
        let slot = cacheKeys.firstIndex(of: options)
        if let slot, let cached = cache[slot][index] { return cached }
        let fold = folds[index]
        let trainTable = base.table.selectingRows(fold.train)
        let preprocessor = try Preprocessor.fit(trainTable, features: base.features, options: options)
        let data = FoldMatrices(trainX: try preprocessor.transform(trainTable),
                                testX: try preprocessor.transform(base.table.selectingRows(fold.test)),
                                trainTarget: base.target.selecting(fold.train))
        if cacheFolds {
            if let slot { cache[slot][index] = data } else {
                cacheKeys.append(options)
                cache.append([index: data])
            }
        }
        return data
    }

    private func primaryScore(_ output: Matrix, fold: Fold) -> [String: Double] {
        let actual = fold.test.map { base.target.values[$0] }
        return task == .regression ? RegressionMetrics.compute(actual: actual, predicted: output.storage)
            : ClassificationMetrics.compute(actual: actual.map { Int($0) }, probabilities: output)
    }

    /// Every candidate of a linear family at once, from one fit of its regularization path per
    /// fold. If the path fails, they are tried one by one.
    mutating func evaluatePath(_ candidates: [Candidate]) throws {
        let algorithms = try candidates.map { try AlgorithmRegistry.named($0.algorithm) }
        let parameters = try zip(algorithms, candidates).map { try $0.resolve($1.parameters) }
        var outputs = [[Matrix]](repeating: [], count: candidates.count)
        var seconds = 0.0
        let name = task == .regression ? "least squares and ridge" : "logistic regression"
        do {
            for index in folds.indices {
                try progress(TrainingProgress(fraction: fraction, message: "\(name) over \(candidates.count) penalties: fold \(index + 1) of \(folds.count)"))
                let began = Date()
                let data = try foldData(algorithms[0], fold: index)
                switch task {
                case .regression:
                    let alphas = zip(candidates, parameters).map { $0.algorithm == "linear" ? 0 : $1["alpha"]! }
                    let predictions = try RidgePath(data.trainX, data.trainTarget.values).predictions(data.testX, alphas: alphas)
                    for c in candidates.indices { outputs[c].append(Matrix(rows: predictions.rows, columns: 1, storage: predictions.column(c))) }
                case .classification:
                    let models = try LogisticRegression.path(data.trainX, classes: data.trainTarget.classIndices,
                                                             classCount: data.trainTarget.classes.count, Cs: parameters.map { $0["C"]! })
                    for c in candidates.indices { outputs[c].append(models[c].predict(data.testX)) }
                }
                seconds += Date().timeIntervalSince(began)
            }
        } catch let error as TestbedError {
            notes.append("the \(name) path failed (\(error.message)); its penalties were tried one by one")
            for candidate in candidates { _ = try evaluate(candidate) }
            return
        }
        // What one penalty costs fitted alone, for the time kept back for the winner: one fit of
        // the middle penalty from zeros on the first fold (a warm path's share of the time
        // understates it, the whole path overstates it several times).
        let middle = candidates.count / 2
        let began = Date()
        let data = try foldData(algorithms[middle], fold: 0)
        _ = try? algorithms[middle].fit(data.trainX, data.trainTarget, parameters: parameters[middle], seed: spec.seed)
        let refitSeconds = Date().timeIntervalSince(began)
        for c in candidates.indices {
            tried.append(candidates[c])
            let scores = zip(folds, outputs[c]).map { primaryScore($1, fold: $0)[metric]! }
            try finish(candidates[c], parameters: parameters[c], outputs: outputs[c], foldScores: scores,
                       secondsPerFold: seconds / Double(folds.count * candidates.count), refitSeconds: refitSeconds)
        }
        unitSeconds[candidates[0].algorithm] = seconds / Double(folds.count)
        notes.append("\(name) was tried at \(candidates.count) penalties from one fit of its regularization path per fold (\(String(format: "%.3f", seconds / Double(folds.count))) s per fold)")
    }

    /// Scores `candidate` fold by fold, stopping early when it is clearly worse than the best so
    /// far on the same folds or when its next fold would overrun the budget. Returns whether it
    /// became the best by a margin that counts as an improvement.
    @discardableResult
    mutating func evaluate(_ candidate: Candidate) throws -> Bool {
        tried.append(candidate)
        let algorithm: Algorithm, parameters: Hyperparameters
        do {
            algorithm = try AlgorithmRegistry.named(candidate.algorithm)
            parameters = try algorithm.resolve(candidate.parameters)
        } catch let error as TestbedError {
            incomplete.append(entry(candidate, candidate.parameters, [], seconds: 0, outcome: .failed, reason: error.message))
            return false
        }
        let cost = SearchSpace.cost(candidate.algorithm, parameters, featureShare: featureShare)
        // A family's first candidate is judged on every fold: on small tables one fold can favour
        // a weak family by chance, and discarding every other family's opening candidate after
        // it would leave the search to that family.
        let mayDiscard = finished.contains { $0.candidate.algorithm == candidate.algorithm }
        var outputs: [Matrix] = [], foldMetrics: [[String: Double]] = [], seconds = 0.0, predictSeconds = 0.0
        for (index, fold) in folds.enumerated() {
            if index > 0 {
                let perFold = seconds / Double(index)
                // The first candidate to finish is never stopped: there must be a model to return.
                if elapsed + perFold > searchBudget && !finished.isEmpty {
                    let reason = "stopped after \(index) of \(folds.count) folds: the next would not have fitted in the time budget"
                    return stop(candidate, parameters, foldMetrics, seconds: perFold, outcome: .outOfTime, reason: reason)
                }
                if mayDiscard, let reason = discardReason(foldMetrics.map { $0[metric]! }) {
                    return stop(candidate, parameters, foldMetrics, seconds: perFold, outcome: .discarded, reason: reason)
                }
            }
            try progress(TrainingProgress(fraction: fraction, message: "\(ModelSearch.describe(candidate)): fold \(index + 1) of \(folds.count)"))
            let began = Date()
            do {
                let data = try foldData(algorithm, fold: index)
                let model = try algorithm.fit(data.trainX, data.trainTarget, parameters: parameters, seed: spec.seed)
                let predicting = Date()
                let output = try model.checkedPredict(data.testX)
                predictSeconds += Date().timeIntervalSince(predicting)
                outputs.append(output)
                foldMetrics.append(primaryScore(output, fold: fold))
            } catch let error as TestbedError {
                return stop(candidate, parameters, foldMetrics, seconds: seconds / Double(max(index, 1)), outcome: .failed, reason: error.message)
            }
            seconds += Date().timeIntervalSince(began)
            unitSeconds[candidate.algorithm] = max(unitSeconds[candidate.algorithm] ?? 0, seconds / Double(index + 1) / max(cost, 1e-3))
        }
        return try finish(candidate, parameters: parameters, outputs: outputs, foldScores: foldMetrics.map { $0[metric]! },
                          secondsPerFold: seconds / Double(folds.count), predictSeconds: predictSeconds / Double(folds.count))
    }

    /// Why a candidate with these primary-metric values on the first folds should go no further:
    /// it is worse than the best candidate on the same folds by more than half the best's
    /// fold-to-fold standard deviation. `nil` to go on.
    func discardReason(_ scores: [Double]) -> String? {
        guard let best = bestIndex.map({ finished[$0] }), !scores.isEmpty else { return nil }
        let mine = scores.reduce(0, +) / Double(scores.count)
        let theirs = best.foldScores.prefix(scores.count).reduce(0, +) / Double(scores.count)
        let worse = task == .regression ? mine - theirs : theirs - mine
        let margin = max(0.5 * best.foldScores.meanAndStandardDeviation().std, 1e-9 * abs(theirs))
        guard worse > margin else { return nil }
        let folds = scores.count == 1 ? "the first fold" : "the first \(scores.count) folds"
        return "\(metric) \(String(format: "%.4g", mine)) on \(folds) of \(self.folds.count), against \(String(format: "%.4g", theirs)) for the best so far, \(ModelSearch.describe(best.candidate)), on the same folds"
    }

    private func entry(_ candidate: Candidate, _ parameters: Hyperparameters, _ foldMetrics: [[String: Double]], seconds: Double,
                       outcome: CandidateOutcome, reason: String?) -> LeaderboardEntry {
        let summary = CrossValidationResult(folds: foldMetrics.count, perFold: foldMetrics, confusionMatrix: nil, reliability: nil, notes: [])
        return LeaderboardEntry(algorithm: candidate.algorithm, params: parameters, metrics: summary.metrics, metricsStd: summary.metricsStd,
                                fitSeconds: seconds, outcome: outcome, foldsEvaluated: foldMetrics.count, reason: reason)
    }

    private mutating func stop(_ candidate: Candidate, _ parameters: Hyperparameters, _ foldMetrics: [[String: Double]], seconds: Double,
                               outcome: CandidateOutcome, reason: String) -> Bool {
        let stopped = entry(candidate, parameters, foldMetrics, seconds: seconds, outcome: outcome, reason: reason)
        incomplete.append(stopped)
        try? progress(TrainingProgress(fraction: fraction, message: "\(ModelSearch.describe(candidate)): \(outcome.rawValue), \(reason)", finished: stopped))
        if outcome == .outOfTime { budgetStop = "the time budget of \(formatNumber(budget)) s ran out" }
        return false
    }

    @discardableResult
    private mutating func finish(_ candidate: Candidate, parameters: Hyperparameters, outputs: [Matrix], foldScores: [Double],
                                 secondsPerFold: Double, refitSeconds: Double? = nil, predictSeconds: Double = 0) throws -> Bool {
        let (evaluation, outOfFold, tested) = base.evaluate(folds: folds, outputs: outputs, foldNotes: foldNotes, plan: base.plan)
        self.tested = tested
        let entry = LeaderboardEntry(algorithm: candidate.algorithm, params: parameters, metrics: evaluation.metrics,
                                     metricsStd: evaluation.metricsStd, fitSeconds: secondsPerFold, outcome: .evaluated, foldsEvaluated: folds.count)
        finished.append(Finished(candidate: candidate, parameters: parameters, entry: entry, evaluation: evaluation, outOfFold: outOfFold,
                                 foldScores: foldScores, secondsPerFold: secondsPerFold, refitSeconds: refitSeconds ?? secondsPerFold, predictSeconds: predictSeconds))
        let previous = bestIndex.map { finished[$0].entry.metrics }
        let key = ModelSearch.rankingKey(entry.metrics, task: task)
        if previous == nil || key < ModelSearch.rankingKey(previous!, task: task) { bestIndex = finished.count - 1 }
        let score = evaluation.metrics[metric].map { String(format: "%.4f ± %.4f", $0, evaluation.metricsStd[metric] ?? 0) } ?? "n/a"
        try progress(TrainingProgress(fraction: fraction, message: "[\(finished.count)] \(ModelSearch.describe(candidate)): \(metric) \(score) (\(String(format: "%.2f", secondsPerFold)) s per fold)",
                                      finished: entry))
        return previous.map { isImprovement(entry.metrics, over: $0) } ?? true
    }

    /// Better by more than rounding: a relative 10⁻⁴ of RMSE, or of log loss at equal accuracy.
    private func isImprovement(_ new: [String: Double], over old: [String: Double]) -> Bool {
        let (a, b) = (ModelSearch.rankingKey(new, task: task), ModelSearch.rankingKey(old, task: task))
        switch task {
        case .regression: return a.0 < b.0 * (1 - 1e-4)
        case .classification: return a.0 < b.0 || (a.0 == b.0 && a.1 < b.1 * (1 - 1e-4))
        }
    }

    // MARK: Sampling

    /// Samples settings of `families` while the budget lasts, until `patience` in a row have not
    /// improved on the best.
    mutating func sample(families: Set<String>, patience: Int) throws {
        guard !families.isEmpty else { return }
        var generator = SeededGenerator(seed: spec.seed ^ 0x5EA5_C4ED_0A17_0BAD)
        var withoutImprovement = 0, unaffordable = 0, repeats = 0
        let rows = folds.map(\.train.count).min() ?? base.table.rowCount
        while true {
            guard elapsed < searchBudget else {
                budgetStop = "the time budget of \(formatNumber(budget)) s was spent"
                return
            }
            let family = pickFamily(families, generator: &generator)
            let best = bestOf(family)
            let candidate = Candidate(family, SearchSpace.sample(family, around: best?.parameters, rows: rows, generator: &generator))
            if tried.contains(candidate) {
                repeats += 1
                if repeats >= 200 {
                    notes.append("stopped early: sampling found no setting it had not tried")
                    converged = true
                    return
                }
                continue
            }
            guard canStart(candidate) else {
                unaffordable += 1
                if unaffordable >= 20 {
                    budgetStop = "the time left in the budget of \(formatNumber(budget)) s was too short for another setting"
                    return
                }
                continue
            }
            withoutImprovement = try evaluate(candidate) ? 0 : withoutImprovement + 1
            if budgetStop != nil { return }
            if withoutImprovement >= patience {
                let best = finished[bestIndex!]
                notes.append("stopped early after \(String(format: "%.1f", elapsed)) s of \(formatNumber(budget)) s: \(patience) sampled settings in a row did not improve on \(ModelSearch.describe(best.candidate)); more search is unlikely to help")
                converged = true
                return
            }
        }
    }

    /// The family's best evaluated candidate, if any.
    private func bestOf(_ family: String) -> Finished? {
        finished.filter { $0.candidate.algorithm == family }.min {
            ModelSearch.rankingKey($0.entry.metrics, task: task) < ModelSearch.rankingKey($1.entry.metrics, task: task)
        }
    }

    /// A family to sample, the better ones more often: by rank of their best so far, 55%, 25%,
    /// 12%, then the rest shared.
    private func pickFamily(_ families: Set<String>, generator: inout SeededGenerator) -> String {
        let ranked = families.sorted().sorted { a, b in
            let (x, y) = (bestOf(a).map { ModelSearch.rankingKey($0.entry.metrics, task: task) },
                          bestOf(b).map { ModelSearch.rankingKey($0.entry.metrics, task: task) })
            switch (x, y) {
            case let (x?, y?): return x < y
            case (.some, nil): return true
            default: return false
            }
        }
        let weights = ranked.indices.map { [0.55, 0.25, 0.12][safe: $0] ?? 0.08 }
        var draw = Double(generator.next() >> 11) / Double(1 << 53) * weights.reduce(0, +)
        for (family, weight) in zip(ranked, weights) {
            draw -= weight
            if draw < 0 { return family }
        }
        return ranked[ranked.count - 1]
    }

    // MARK: Result

    func result() throws -> ModelSearchResult {
        guard !finished.isEmpty else {
            let reasons = incomplete.compactMap { $0.reason.map { "\($0)" } }.prefix(3).joined(separator: "; ")
            throw TestbedError(.numericalFailure, "no candidate could be trained on every fold: \(reasons)")
        }
        let order = { (a: [String: Double], b: [String: Double]) in ModelSearch.rankingKey(a, task: task) < ModelSearch.rankingKey(b, task: task) }
        let ranked = finished.sorted { order($0.entry.metrics, $1.entry.metrics) }
        let best = ranked[0]
        var notes = self.notes
        if let budgetStop {
            notes.append("\(budgetStop) after \(finished.count + incomplete.count) candidates; the best of the \(finished.count) evaluated on every fold is used")
        }
        if !finished.contains(where: { !ModelSearch.isOnPath($0.candidate) }) && budgetStop != nil {
            notes.append("the time budget allowed only the cheapest candidates, the linear regularization path; give auto more time to try trees and the other families")
        }
        let discarded = incomplete.filter { $0.outcome == .discarded }.count
        let failed = incomplete.filter { $0.outcome == .failed }.count
        notes.append("auto chose \(ModelSearch.describe(best.candidate)) on cross-validated \(metric) among \(finished.count) candidates evaluated on every fold"
            + (discarded > 0 ? ", \(discarded) more discarded after their first folds" : "")
            + (failed > 0 ? ", \(failed) failed" : "")
            + " (\(String(format: "%.1f", elapsed)) s of the \(formatNumber(budget)) s budget\(converged || budgetStop != nil ? "" : ", no setting left to sample")); these are inner figures: the same rows chose the winner")
        let rows = OutOfFoldRows(task: task, classes: task == .classification ? base.target.classes : [],
                                 rows: Array(0..<base.target.values.count), actual: base.target.values, tested: tested, folds: folds)
        return ModelSearchResult(
            leaderboard: ranked.map(\.entry) + incomplete.sorted { order($0.metrics, $1.metrics) },
            winner: best.candidate, evaluation: best.evaluation, notes: notes,
            outOfFold: finished.map { CandidateOOF(candidate: $0.candidate, parameters: $0.parameters, metrics: $0.entry.metrics, predictions: $0.outOfFold, refitSeconds: $0.refitSeconds, predictSeconds: $0.predictSeconds) },
            outOfFoldRows: rows)
    }
}

private extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

import Foundation

/// One algorithm with one set of hyper-parameters, tried by ``ModelSearch``.
public struct Candidate: Sendable, Equatable {
    public var algorithm: String
    public var parameters: Hyperparameters

    public init(_ algorithm: String, _ parameters: Hyperparameters = [:]) {
        self.algorithm = algorithm
        self.parameters = parameters
    }
}

/// `--algorithm auto`: cross-validates candidates of every family on the same folds (the spec's
/// split scheme) within a time budget, and ranks them on the task's primary metric.
///
/// - The linear families first, over their whole regularization paths: every penalty of ridge
///   (and least squares) from one decomposition per fold, logistic regression over C with warm starts.
/// - Then an opening grid of the other families, cheapest first.
/// - Then, while time remains, settings of the strong families sampled at random or near their
///   best (``SearchSpace``), the better families more often.
/// - Every candidate after the first is scored fold by fold and discarded as soon as it is
///   clearly worse than the best so far on the same folds (successive halving over folds).
/// - The search stops when the budget is spent (keeping time to fit the winner), or early when
///   ``patience`` sampled settings in a row have not improved on the best, and says which.
public struct ModelSearch: Sendable {
    /// The metric candidates are ranked on: RMSE for regression, accuracy for classification
    /// (the share of right decisions, the figure peers are compared on), ties broken by log loss.
    public static func primaryMetric(for task: LearningTask) -> String {
        task == .regression ? "rmse" : "accuracy"
    }

    /// Sorts before a worse result: the primary metric oriented so that lower is better, then log loss.
    static func rankingKey(_ metrics: [String: Double], task: LearningTask) -> (Double, Double) {
        switch task {
        case .regression: return (metrics["rmse"] ?? .infinity, 0)
        case .classification: return (-(metrics["accuracy"] ?? -.infinity), metrics["log_loss"] ?? .infinity)
        }
    }

    /// How many of the best candidates the search keeps time for as an ensemble's members.
    static let likelyEnsembleMembers = 5

    /// What saving an ensemble costs after the search: the best single candidate's leakage checks
    /// (`winnerRefit` seconds per fit: folds + 2 fits, and folds more for the comparison of
    /// time-ordered folds with random ones), then every member, taking `memberRefits` seconds per
    /// fold's fit, fitted on the search's rows (for the held-out figure) and on every row, each
    /// `fitScale` times a fold's fit (the rows of a whole fit over a fold's training rows: about
    /// 1.6 for five random folds, more for time-ordered ones, whose early folds train on few
    /// rows), and the held-out rows' predictions for the importances, about half a fold's time.
    static func ensembleSeconds(winnerRefit: Double, folds: Int, timeOrdered: Bool, memberRefits: [Double], fitScale: Double) -> Double {
        winnerRefit * Double(folds + 2 + (timeOrdered ? folds : 0)) + (2 * fitScale + 0.5) * memberRefits.reduce(0, +)
    }

    /// A fit on `rows` rows over one on a fold's training rows, for judging what a fit costs
    /// from the folds' times.
    static func fitScale(rows: Int, folds: [Fold]) -> Double {
        let training = Double(folds.reduce(0) { $0 + $1.train.count }) / Double(max(folds.count, 1))
        return max(Double(rows) / max(training, 1), 1)
    }

    /// What cross-validated permutation importances cost for a model whose predictions of one
    /// fold take `predictSeconds`: every feature shuffled ``PermutationImportance/repeats``
    /// times on every fold.
    static func importanceSeconds(predictSeconds: Double, folds: Int, features: Int) -> Double {
        predictSeconds * Double(folds * features * PermutationImportance.repeats)
    }

    /// The opening grid, cheapest families first: the linear regularization path, then k-NN,
    /// boosted trees, the forest and the network.
    public static func candidates(for task: LearningTask) -> [Candidate] {
        let linear: [Candidate] = task == .regression
            ? [Candidate("linear")] + RidgePath.searchAlphas.filter { $0 > 0 }.map { Candidate("ridge", ["alpha": $0]) }
            : LogisticRegression.searchCs.map { Candidate("logistic", ["C": $0]) }
        return linear + [
            Candidate("knn", ["k": 5]), Candidate("knn", ["k": 15]),
            Candidate("gbdt"), Candidate("gbdt", ["learning_rate": 0.05, "max_iter": 200, "max_leaf_nodes": 15]),
            // Small tables: leaves of 20 rows are too coarse for a few hundred rows.
            Candidate("gbdt", ["min_samples_leaf": 5, "max_leaf_nodes": 15]),
            Candidate("random_forest"),
            Candidate("mlp"),
        ]
    }

    /// The grid restricted to `families` (`nil`: all); a family without a grid entry is tried
    /// with its defaults. Families that do not do `task` are left out.
    public static func candidates(for task: LearningTask, families: Set<String>?) throws -> [Candidate] {
        guard let families else { return candidates(for: task) }
        let usable = families.intersection(AlgorithmRegistry.names(for: task))
        guard !usable.isEmpty else {
            throw TestbedError(.unknownAlgorithm, "none of \(families.sorted().joined(separator: ", ")) does \(task.rawValue); algorithms for \(task.rawValue): \(AlgorithmRegistry.names(for: task).joined(separator: ", "))")
        }
        let grid = candidates(for: task).filter { usable.contains($0.algorithm) }
        let ungridded = usable.subtracting(grid.map(\.algorithm)).sorted().map { Candidate($0) }
        return ungridded + grid
    }

    /// Whether a candidate is solved as part of a regularization path rather than on its own.
    static func isOnPath(_ candidate: Candidate) -> Bool {
        ["linear", "ridge", "logistic"].contains(candidate.algorithm)
    }

    /// Seconds for the whole search, the winner's final fits included.
    public var timeBudget: Double
    /// Sampled settings in a row that do not improve on the best before the search concludes
    /// that more search is unlikely to help.
    public var patience: Int

    public init(timeBudget: Double, patience: Int = 25) {
        self.timeBudget = timeBudget
        self.patience = patience
    }

    /// Runs the search; the leaderboard is sorted best first, candidates discarded early or failed
    /// after those evaluated on every fold. `progress` hears of every fold and every finished
    /// candidate; throwing from it stops the search.
    public func run(_ table: DataTable, spec: TrainingSpec, progress: @escaping TrainingProgressHandler = { _ in }) throws -> ModelSearchResult {
        guard timeBudget > 0, timeBudget.isFinite else {
            throw TestbedError(.invalidParameter, "time budget == \(formatNumber(timeBudget)) seconds, must be > 0")
        }
        guard patience >= 1 else {
            throw TestbedError(.invalidParameter, "patience == \(patience), must be >= 1")
        }
        guard case .search(let families) = spec.algorithm else {
            throw TestbedError(.invalidParameter, "ModelSearch runs a search; the spec names one algorithm")
        }
        let task = try Target(table.column(named: spec.target), task: spec.task).task
        let grid = try Self.candidates(for: task, families: families)
        var session = try SearchSession(table: table, spec: spec, task: task, budget: timeBudget, progress: progress)

        let path = grid.filter(Self.isOnPath)
        if !path.isEmpty { try session.evaluatePath(path) }
        for candidate in grid where !Self.isOnPath(candidate) {
            // However small the budget, one candidate is trained.
            guard session.canStart(candidate) || session.finished.isEmpty else {
                session.budgetStop = "the time budget of \(formatNumber(timeBudget)) s ran out during the opening grid"
                break
            }
            try session.evaluate(candidate)
        }
        if session.budgetStop == nil {
            let usable = Set(grid.map(\.algorithm)).intersection(SearchSpace.tunable)
            try session.sample(families: usable, patience: patience)
        }
        return try session.result()
    }

    static func describe(_ candidate: Candidate) -> String {
        let parameters = candidate.parameters.keys.sorted().map { "\($0)=\(formatNumber(candidate.parameters[$0]!))" }
        return parameters.isEmpty ? candidate.algorithm : "\(candidate.algorithm)(\(parameters.joined(separator: ", ")))"
    }
}

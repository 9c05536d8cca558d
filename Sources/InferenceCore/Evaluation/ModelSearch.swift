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

/// A candidate's cross-validated result.
public struct LeaderboardEntry: Sendable, Codable, Equatable {
    public var algorithm: String
    public var params: Hyperparameters
    public var metrics: [String: Double]
    public var metricsStd: [String: Double]
    /// Mean seconds per fold to fit and score.
    public var fitSeconds: Double

    enum CodingKeys: String, CodingKey {
        case algorithm, params, metrics
        case metricsStd = "metrics_std"
        case fitSeconds = "fit_seconds"
    }
}

/// `--algorithm auto`: cross-validates a small, sensible grid of every family on the same folds
/// (the spec's split scheme),
/// cheapest first, within a time budget, and ranks them on the task's primary metric.
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

    /// The grid, cheapest families first.
    public static func candidates(for task: LearningTask) -> [Candidate] {
        let linear: [Candidate] = task == .regression
            ? [Candidate("ridge", ["alpha": 0.1]), Candidate("ridge", ["alpha": 1]), Candidate("ridge", ["alpha": 10])]
            : [Candidate("logistic", ["C": 0.1]), Candidate("logistic", ["C": 1]), Candidate("logistic", ["C": 10])]
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

    public var timeBudget: Double

    public init(timeBudget: Double) {
        self.timeBudget = timeBudget
    }

    /// Runs the search. The budget is checked before each candidate, so at least one finishes;
    /// the leaderboard is sorted best first. `progress` hears of every fold and every finished
    /// candidate; throwing from it stops the search.
    public func run(_ table: DataTable, spec: TrainingSpec, progress: @escaping TrainingProgressHandler = { _ in })
        throws -> (leaderboard: [LeaderboardEntry], winner: Candidate, evaluation: CrossValidationResult, notes: [String]) {
        guard timeBudget > 0 else {
            throw TestbedError(.invalidParameter, "time budget == \(formatNumber(timeBudget)) seconds, must be > 0")
        }
        let task = try Target(table.column(named: spec.target), task: spec.task).task
        let metric = Self.primaryMetric(for: task)
        guard case .search(let families) = spec.algorithm else {
            throw TestbedError(.invalidParameter, "ModelSearch runs a search; the spec names one algorithm")
        }
        let candidates = try Self.candidates(for: task, families: families)
        let start = Date()
        var results: [(entry: LeaderboardEntry, candidate: Candidate, evaluation: CrossValidationResult)] = []
        var notes: [String] = []
        for (index, candidate) in candidates.enumerated() {
            let elapsed = Date().timeIntervalSince(start)
            if elapsed >= timeBudget && !results.isEmpty {
                notes.append("the time budget of \(formatNumber(timeBudget)) s ran out after \(results.count) of \(candidates.count) candidates; the best of those is used")
                break
            }
            var candidateSpec = spec
            candidateSpec.algorithm = .named(candidate.algorithm)
            candidateSpec.parameters = candidate.parameters
            let prepared = try PreparedData(table, spec: candidateSpec)
            let parameters = try prepared.algorithm.resolve(candidate.parameters)
            let began = Date()
            let share = 1 / Double(candidates.count)
            let evaluation = try prepared.crossValidate(
                parameters: parameters, seed: spec.seed,
                progress: TrainingProgress.scaled(progress, to: Double(index) * share...Double(index + 1) * share))
            let seconds = Date().timeIntervalSince(began) / Double(evaluation.folds)
            let entry = LeaderboardEntry(algorithm: candidate.algorithm, params: parameters, metrics: evaluation.metrics,
                                         metricsStd: evaluation.metricsStd, fitSeconds: seconds)
            results.append((entry, candidate, evaluation))
            let score = evaluation.metrics[metric].map { String(format: "%.4f ± %.4f", $0, evaluation.metricsStd[metric] ?? 0) } ?? "n/a"
            try progress(TrainingProgress(
                fraction: Double(index + 1) * share,
                message: "[\(index + 1)/\(candidates.count)] \(Self.describe(candidate)): \(metric) \(score) (\(String(format: "%.2f", seconds)) s per fold)",
                finished: entry))
        }
        if results.count == 1 && candidates.count > 1 {
            notes.append("the time budget allowed only one candidate, \(Self.describe(results[0].candidate))")
        }
        let ranked = results.sorted { Self.rankingKey($0.entry.metrics, task: task) < Self.rankingKey($1.entry.metrics, task: task) }
        let best = ranked[0]
        notes.append("auto chose \(Self.describe(best.candidate)) on cross-validated \(metric) among \(results.count) candidates")
        return (ranked.map(\.entry), best.candidate, best.evaluation, notes)
    }

    static func describe(_ candidate: Candidate) -> String {
        let parameters = candidate.parameters.keys.sorted().map { "\($0)=\(formatNumber(candidate.parameters[$0]!))" }
        return parameters.isEmpty ? candidate.algorithm : "\(candidate.algorithm)(\(parameters.joined(separator: ", ")))"
    }
}

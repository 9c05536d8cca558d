/// What became of a candidate of ``ModelSearch``.
public enum CandidateOutcome: String, Sendable, Codable, Equatable, CaseIterable {
    /// Cross-validated on every fold.
    case evaluated
    /// Stopped after some folds: clearly worse than the best so far on the same folds, so the
    /// rest of its folds were not worth their time.
    case discarded
    /// Its fit failed (an error, for example a numerical failure); the search went on without it.
    case failed
    /// Stopped between folds because the rest would not have fitted in the time budget.
    case outOfTime = "out_of_time"
}

/// A candidate's cross-validated result.
public struct LeaderboardEntry: Sendable, Codable, Equatable {
    public var algorithm: String
    public var params: Hyperparameters
    /// The mean over the folds it was scored on (all of them unless discarded early). With `auto`
    /// these are inner figures: the rows they come from also chose the winner.
    public var metrics: [String: Double]
    public var metricsStd: [String: Double]
    /// Mean seconds per fold to fit and score (for a regularization path, its share of the path's time).
    public var fitSeconds: Double
    /// Absent in files from before early discarding: evaluated on every fold.
    public var outcome: CandidateOutcome?
    /// The folds it was scored on; absent in older files (all of them).
    public var foldsEvaluated: Int?
    /// Why it was discarded or failed, in words.
    public var reason: String?

    public init(algorithm: String, params: Hyperparameters, metrics: [String: Double], metricsStd: [String: Double], fitSeconds: Double,
                outcome: CandidateOutcome? = nil, foldsEvaluated: Int? = nil, reason: String? = nil) {
        self.algorithm = algorithm
        self.params = params
        self.metrics = metrics
        self.metricsStd = metricsStd
        self.fitSeconds = fitSeconds
        self.outcome = outcome
        self.foldsEvaluated = foldsEvaluated
        self.reason = reason
    }

    /// Whether it was scored on every fold (true for entries of files from before early discarding).
    public var isComplete: Bool { (outcome ?? .evaluated) == .evaluated }

    enum CodingKeys: String, CodingKey {
        case algorithm, params, metrics, outcome, reason
        case metricsStd = "metrics_std"
        case fitSeconds = "fit_seconds"
        case foldsEvaluated = "folds_evaluated"
    }
}

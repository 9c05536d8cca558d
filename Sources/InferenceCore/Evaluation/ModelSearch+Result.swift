/// What a ``ModelSearch`` found: the ranked leaderboard, the winner, and every fully evaluated
/// candidate's out-of-fold predictions for building ensembles on.
public struct ModelSearchResult: Sendable {
    /// Every candidate tried, best first; those discarded early after them.
    public var leaderboard: [LeaderboardEntry]
    /// The best single candidate.
    public var winner: Candidate
    /// The winner's cross-validation (on the rows and folds of ``outOfFoldRows``).
    public var evaluation: CrossValidationResult
    /// What the search did and why it stopped, for the person running it.
    public var notes: [String]
    /// Every candidate that was evaluated on all folds, in the order they finished; their
    /// predictions are aligned row for row with ``outOfFoldRows``.
    public var outOfFold: [CandidateOOF]
    /// The rows, targets and folds the out-of-fold predictions share.
    public var outOfFoldRows: OutOfFoldRows
    /// Positions, in the prepared table, of the rows held out from the search for an unflattered
    /// figure (see ``OuterHoldOut``); empty when the search saw every row.
    public var holdOutRows: [Int] = []

    /// The winner's entry among ``outOfFold``, with its timing.
    public var winnerOutOfFold: CandidateOOF? { outOfFold.first { $0.candidate == winner } }

    public init(leaderboard: [LeaderboardEntry], winner: Candidate, evaluation: CrossValidationResult, notes: [String],
                outOfFold: [CandidateOOF], outOfFoldRows: OutOfFoldRows) {
        self.leaderboard = leaderboard
        self.winner = winner
        self.evaluation = evaluation
        self.notes = notes
        self.outOfFold = outOfFold
        self.outOfFoldRows = outOfFoldRows
    }
}

/// One fully evaluated candidate's out-of-fold predictions: each row predicted by the fold model
/// that did not see it.
public struct CandidateOOF: Sendable {
    public var candidate: Candidate
    /// The hyper-parameters it was evaluated with, defaults included (as on the leaderboard).
    public var parameters: Hyperparameters
    /// Its (inner) cross-validated metrics, the mean over the folds, as on the leaderboard.
    public var metrics: [String: Double]
    /// `OutOfFoldRows.rows.count` rows, row-major. Regression: one column of predicted values;
    /// classification: one probability per class, in the order of `OutOfFoldRows.classes`.
    /// Rows that no fold tested (``OutOfFoldRows/tested`` false) hold NaN.
    public var predictions: Matrix
    /// What fitting it alone on a fold's rows takes, about, for judging what fitting it again costs.
    public var refitSeconds: Double
    /// What one fold's predictions took.
    public var predictSeconds: Double

    public init(candidate: Candidate, parameters: Hyperparameters, metrics: [String: Double], predictions: Matrix, refitSeconds: Double = 0,
                predictSeconds: Double = 0) {
        self.candidate = candidate
        self.parameters = parameters
        self.metrics = metrics
        self.predictions = predictions
        self.refitSeconds = refitSeconds
        self.predictSeconds = predictSeconds
    }
}

/// The rows every ``CandidateOOF`` of a search predicts, with their targets and folds.
public struct OutOfFoldRows: Sendable, Equatable {
    public var task: LearningTask
    /// Classification: the class labels, in the order of the probability columns; empty for regression.
    public var classes: [String]
    /// Positions, in the prepared table (`PreparedData(table, spec:).table`), of the rows the search
    /// saw, in the order of the predictions' rows. All rows unless part was held out for the estimate.
    public var rows: [Int]
    /// Per row: the target value (regression) or class index (classification).
    public var actual: [Double]
    /// Per row: whether a fold tested it. Time-ordered folds never test the first block.
    public var tested: [Bool]
    /// The folds, as positions into ``rows``.
    public var folds: [Fold]

    public init(task: LearningTask, classes: [String], rows: [Int], actual: [Double], tested: [Bool], folds: [Fold]) {
        self.task = task
        self.classes = classes
        self.rows = rows
        self.actual = actual
        self.tested = tested
        self.folds = folds
    }

    /// The columns a prediction matrix has: 1 for regression, the class count for classification.
    public var predictedColumns: Int { task == .regression ? 1 : classes.count }

    /// The metrics of out-of-fold `predictions` (as in ``CandidateOOF/predictions``) measured as the
    /// leaderboard measures them: on each fold's test rows, then the mean over the folds. An
    /// ensemble's figure from this is comparable with its members' ``CandidateOOF/metrics``.
    public func metrics(of predictions: Matrix) -> [String: Double] {
        precondition(predictions.rows == rows.count && predictions.columns == predictedColumns,
                     "out-of-fold predictions have \(predictions.rows) × \(predictions.columns) values, expected \(rows.count) × \(predictedColumns)")
        let perFold: [[String: Double]] = folds.compactMap { fold in
            guard !fold.test.isEmpty else { return nil }
            switch task {
            case .regression:
                return RegressionMetrics.compute(actual: fold.test.map { actual[$0] }, predicted: fold.test.map { predictions.storage[$0] })
            case .classification:
                return ClassificationMetrics.compute(actual: fold.test.map { Int(actual[$0]) }, probabilities: predictions.selectingRows(fold.test))
            }
        }
        return CrossValidationResult(folds: folds.count, perFold: perFold, confusionMatrix: nil, reliability: nil, notes: []).metrics
    }
}

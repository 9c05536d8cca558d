import Foundation

/// Greedy ensemble selection (Caruana, Niculescu-Mizil, Crew and Ksikes, "Ensemble Selection from
/// Libraries of Models", ICML 2004) over the candidates' out-of-fold predictions.
///
/// Forward selection with replacement: the ensemble starts as the best single candidate; each
/// round adds the candidate (possibly one already in) whose addition gives the best score of the
/// equally weighted average of the chosen predictions. The rounds' best ensemble of at least two
/// candidates is kept (the first, on a tie) when it beats the best single candidate, which is kept
/// otherwise; so it is never worse than the best single candidate; its weights are each
/// candidate's selection count over the rounds it took. Regression averages values;
/// classification averages class probabilities and predicts the most probable class.
///
/// Scores are the task's primary metric over the pooled out-of-fold rows: RMSE for regression,
/// accuracy with ties broken by log loss for classification (as ``ModelSearch`` ranks). Plain
/// arrays in, plain arrays out: it neither fits nor predicts.
public enum EnsembleSelection {
    /// How good a set of predictions is; lower is better (compared as a tuple).
    public struct Score: Sendable, Equatable, Comparable, CustomStringConvertible {
        /// Regression: the RMSE. Classification: minus the accuracy.
        public var primary: Double
        /// Classification: the log loss, which breaks ties of accuracy. Regression: 0.
        public var tieBreak: Double

        public static func < (lhs: Score, rhs: Score) -> Bool {
            (lhs.primary, lhs.tieBreak) < (rhs.primary, rhs.tieBreak)
        }

        /// The task the score is of.
        public var task: LearningTask

        public var description: String {
            task == .regression ? "RMSE \(formatNumber(primary))" : "accuracy \(formatNumber(-primary)), log loss \(formatNumber(tieBreak))"
        }
    }

    /// The outcome of a selection.
    public struct Result: Sendable, Equatable {
        /// Per candidate, in the order given: selections over ``rounds``; 0 for those never chosen.
        public var weights: [Double]
        /// Per candidate: how often it was chosen in the kept rounds.
        public var counts: [Int]
        /// The rounds of the kept ensemble (1: the best single candidate alone).
        public var rounds: Int
        /// The best single candidate, where the selection started.
        public var bestSingle: Int
        /// The kept ensemble's score.
        public var score: Score
        /// The best single candidate's score.
        public var bestSingleScore: Score

        /// Whether the ensemble beats the best single candidate on the out-of-fold predictions
        /// (strictly: a tie keeps the single model, which is simpler to serve and explain).
        public var improves: Bool { score < bestSingleScore && counts.count(where: { $0 > 0 }) > 1 }

        /// The candidates with a weight, heaviest first (on a tie, in the order given).
        public var members: [(candidate: Int, weight: Double)] {
            weights.indices.filter { weights[$0] > 0 }.sorted { weights[$0] != weights[$1] ? weights[$0] > weights[$1] : $0 < $1 }
                .map { ($0, weights[$0]) }
        }
    }

    /// The rounds run by default: enough for weights in steps of 4% among the dozen candidates
    /// of a search.
    public static let defaultRounds = 25

    /// Selects an ensemble.
    ///
    /// - Parameters:
    ///   - outOfFold: per candidate, its out-of-fold predictions: one row per training row;
    ///     regression one column of values, classification one column of probability per class.
    ///     A row that some candidate did not predict (NaN, as time-ordered folds leave the first
    ///     block) is left out of every score.
    ///   - actual: per row, the target value (regression) or the class index (classification).
    ///   - task: what `outOfFold` predicts.
    ///   - rounds: how many selections to make at most (>= 1).
    public static func select(outOfFold: [Matrix], actual: [Double], task: LearningTask, rounds: Int = defaultRounds) throws -> Result {
        guard let first = outOfFold.first else {
            throw TestbedError(.invalidParameter, "an ensemble needs at least one candidate's out-of-fold predictions")
        }
        guard rounds >= 1 else {
            throw TestbedError(.invalidParameter, "ensemble selection rounds == \(rounds), must be >= 1")
        }
        let width = first.columns
        for (index, predictions) in outOfFold.enumerated() where predictions.rows != actual.count || predictions.columns != width {
            throw TestbedError(.shapeMismatch, "candidate \(index + 1)'s out-of-fold predictions are \(predictions.rows) × \(predictions.columns), expected \(actual.count) × \(width)")
        }
        guard task == .regression ? width == 1 : width >= 2 else {
            throw TestbedError(.shapeMismatch, "\(task.rawValue) out-of-fold predictions with \(width) columns; expected \(task == .regression ? "1" : "one per class, at least 2")")
        }
        // The rows every candidate predicted.
        let rows = actual.indices.filter { row in outOfFold.allSatisfy { !$0[row, 0].isNaN } && !actual[row].isNaN }
        guard !rows.isEmpty else {
            throw TestbedError(.unsuitableData, "no row has an out-of-fold prediction from every candidate")
        }
        if task == .classification, let row = rows.first(where: { actual[$0] < 0 || actual[$0] >= Double(width) || actual[$0].rounded() != actual[$0] }) {
            throw TestbedError(.invalidParameter, "row \(row + 1)'s class index \(formatNumber(actual[row])) is not one of the \(width) classes")
        }
        let candidates = outOfFold.map { $0.selectingRows(rows) }
        let truth = rows.map { actual[$0] }
        func score(_ sum: [Double], count: Int) -> Score {
            Self.score(sum, divisor: Double(count), actual: truth, width: width, task: task)
        }

        let singles = candidates.map { score($0.storage, count: 1) }
        let bestSingle = singles.indices.min { singles[$0] < singles[$1] }!
        var sum = candidates[bestSingle].storage
        var counts = [Int](repeating: 0, count: candidates.count)
        counts[bestSingle] = 1
        var kept = (counts: counts, rounds: 1, score: singles[bestSingle])
        if rounds > 1 {
            for round in 2...rounds {
                var chosen = 0
                var chosenScore: Score?
                for (index, candidate) in candidates.enumerated() {
                    let trial = zip(sum, candidate.storage).map { $0 + $1 }
                    let trialScore = score(trial, count: round)
                    if chosenScore.map({ trialScore < $0 }) ?? true { (chosen, chosenScore) = (index, trialScore) }
                }
                for i in sum.indices { sum[i] += candidates[chosen].storage[i] }
                counts[chosen] += 1
                // One candidate repeated is that candidate: its score can differ only by rounding.
                if chosenScore! < kept.score && counts.count(where: { $0 > 0 }) > 1 { kept = (counts, round, chosenScore!) }
            }
        }
        return Result(weights: kept.counts.map { Double($0) / Double(kept.rounds) }, counts: kept.counts, rounds: kept.rounds,
                      bestSingle: bestSingle, score: kept.score, bestSingleScore: singles[bestSingle])
    }

    /// The score of the predictions `sum / divisor` (row-major, `width` columns).
    static func score(_ sum: [Double], divisor: Double, actual: [Double], width: Int, task: LearningTask) -> Score {
        switch task {
        case .regression:
            var squared = 0.0
            for (row, value) in actual.enumerated() {
                let error = sum[row] / divisor - value
                squared += error * error
            }
            return Score(primary: (squared / Double(actual.count)).squareRoot(), tieBreak: 0, task: task)
        case .classification:
            // As ClassificationMetrics: the first most probable class; log loss clipped to [ε, 1 − ε].
            let epsilon = Double.ulpOfOne
            var correct = 0
            var logLoss = 0.0
            for (row, value) in actual.enumerated() {
                let start = row * width
                var best = 0
                for k in 1..<width where sum[start + k] / divisor > sum[start + best] / divisor { best = k }
                let label = Int(value)
                if best == label { correct += 1 }
                logLoss -= log(min(max(sum[start + label] / divisor, epsilon), 1 - epsilon))
            }
            return Score(primary: -Double(correct) / Double(actual.count), tieBreak: logLoss / Double(actual.count), task: task)
        }
    }
}

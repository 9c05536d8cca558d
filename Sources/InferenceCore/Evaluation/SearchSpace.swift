import Foundation

/// The settings ``ModelSearch`` samples once its opening grid is done: for each family that has
/// parameters worth tuning, a random draw from a range known to work on tables, or a step from
/// the family's best setting so far (a local search, as FLAML's), and a rough cost to budget by.
enum SearchSpace {
    /// The families sampled after the opening grid. The linear families are covered by their
    /// regularization paths there.
    static let tunable: Set<String> = ["gbdt", "random_forest", "knn", "mlp"]

    /// A setting of `family` for a fold of `rows` training rows: with `best`, half the time a
    /// step from it, otherwise a fresh draw.
    static func sample(_ family: String, around best: Hyperparameters?, rows: Int, generator: inout SeededGenerator) -> Hyperparameters {
        var draw = Draw(generator: generator)
        defer { generator = draw.generator }
        let local = best != nil && draw.uniform() < 0.5
        switch family {
        case "gbdt":
            let learningRate = local ? draw.step(best!["learning_rate"] ?? 0.1, 0.02...0.3, spread: 0.4) : draw.logUniform(0.02...0.3)
            let leaves = local ? draw.step(best!["max_leaf_nodes"] ?? 31, 4...128, spread: 0.4) : draw.logUniform(4...128)
            let leafCap = Double(max(2, min(200, rows / 10)))
            let minLeaf = local ? draw.step(best!["min_samples_leaf"] ?? 20, 1...leafCap, spread: 0.5) : draw.logUniform(1...leafCap)
            var l2 = draw.uniform() < 0.3 ? 0 : draw.logUniform(1e-3...10)
            if local, let previous = best!["l2_regularization"] { l2 = previous > 0 ? draw.step(previous, 1e-3...10, spread: 1) : l2 }
            let fractions: [Double] = [0.5, 0.7, 0.85, 1]
            let fraction = local ? draw.neighbour(of: best!["feature_fraction"] ?? 1, in: fractions) : draw.pick(fractions)
            var parameters: Hyperparameters = ["learning_rate": rounded(learningRate), "max_leaf_nodes": leaves.rounded(),
                                               "min_samples_leaf": minLeaf.rounded(), "l2_regularization": rounded(l2),
                                               "feature_fraction": fraction]
            // Enough rows: boost until a held-out tenth stops improving. Few: that tenth is too noisy
            // to stop on, so the rounds follow the learning rate (0.1: 100 rounds).
            if rows >= 2_000 {
                parameters["early_stopping"] = 1
                parameters["max_iter"] = 1_000
            } else {
                parameters["early_stopping"] = 0
                parameters["max_iter"] = min(max((10 / learningRate).rounded(), 30), 500)
            }
            return parameters
        case "random_forest":
            let shares: [Double] = [0, 0.1, 0.2, 0.33, 0.5, 0.7, 1]
            let leaves: [Double] = [1, 2, 3, 5, 8, 12, 20]
            return ["max_features": local ? draw.neighbour(of: best!["max_features"] ?? 0, in: shares) : draw.pick(shares),
                    "min_samples_leaf": local ? draw.neighbour(of: best!["min_samples_leaf"] ?? 1, in: leaves) : draw.pick(leaves)]
        case "knn":
            let cap = Double(max(1, min(100, rows / 2)))
            return ["k": (local ? draw.step(best!["k"] ?? 5, 1...cap, spread: 0.4) : draw.logUniform(1...cap)).rounded()]
        case "mlp":
            return ["hidden_units": draw.pick([32, 64, 100, 200]), "hidden_layers": draw.pick([1, 2]),
                    "alpha": rounded(draw.logUniform(1e-5...1)), "learning_rate_init": rounded(draw.logUniform(3e-4...1e-2))]
        default:
            return [:]
        }
    }

    /// A fold's cost relative to the family's defaults, to predict a setting's time from the
    /// family's measured ones: boosting rounds and tree depth, forest trees and features tried,
    /// network size and epochs.
    static func cost(_ family: String, _ parameters: Hyperparameters, featureShare: Double) -> Double {
        switch family {
        case "gbdt":
            let rate = parameters["learning_rate"] ?? 0.1, limit = parameters["max_iter"] ?? 100
            let rounds = (parameters["early_stopping"] ?? -1) == 1 ? min(limit, 30 / rate + 10) : limit
            let depth = log2(max(parameters["max_leaf_nodes"] ?? 31, 2)) + 1
            return rounds / 100 * depth / (log2(31) + 1)
        case "random_forest":
            let share = parameters["max_features"] ?? 0
            return (parameters["n_estimators"] ?? 100) / 100 * (share == 0 ? 1 : max(share, 0.05) / featureShare)
        case "mlp":
            return (parameters["max_iter"] ?? 200) / 200 * (parameters["hidden_units"] ?? 100) / 100 * (parameters["hidden_layers"] ?? 1)
        default:
            return 1
        }
    }

    /// Four significant digits, so that the leaderboard reads easily.
    private static func rounded(_ value: Double) -> Double {
        guard value > 0 else { return value }
        let digits = 3 - log10(value).rounded(.down)
        return (value * pow(10, digits)).rounded() / pow(10, digits)
    }

    private struct Draw {
        var generator: SeededGenerator

        mutating func uniform() -> Double { Double(generator.next() >> 11) / Double(1 << 53) }

        mutating func logUniform(_ range: ClosedRange<Double>) -> Double {
            exp(log(range.lowerBound) + uniform() * (log(range.upperBound) - log(range.lowerBound)))
        }

        /// `value` times a log-normal factor, kept in `range`.
        mutating func step(_ value: Double, _ range: ClosedRange<Double>, spread: Double) -> Double {
            let normal = (-2 * log(max(uniform(), 1e-300))).squareRoot() * cos(2 * .pi * uniform())
            return min(max(max(value, range.lowerBound) * exp(spread * normal), range.lowerBound), range.upperBound)
        }

        mutating func pick(_ values: [Double]) -> Double { values[Int(generator.next() % UInt64(values.count))] }

        /// The entry next to `value` in `values`, one way or the other.
        mutating func neighbour(of value: Double, in values: [Double]) -> Double {
            let index = values.firstIndex { $0 >= value } ?? values.count - 1
            let next = index + (generator.next() % 2 == 0 ? -1 : 1)
            return values[min(max(next, 0), values.count - 1)]
        }
    }
}

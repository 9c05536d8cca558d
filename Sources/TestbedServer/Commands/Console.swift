import ArgumentParser
import Foundation
import InferenceCore

/// Standard output for results, standard error for notes and errors.
enum Console {
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("note: \(message)\n".utf8))
    }

    /// A line on standard error for each finished `auto` candidate.
    static func progress(_ step: TrainingProgress) {
        if step.finished != nil { FileHandle.standardError.write(Data("\(step.message)\n".utf8)) }
    }

    /// The leaderboard of `--algorithm auto`, best first.
    static func leaderboardLines(_ leaderboard: [LeaderboardEntry], metric: String) -> [String] {
        ["leaderboard (cross-validated \(metric), best first):"] + leaderboard.enumerated().map { rank, entry in
            // Only what differs from the defaults; the JSON carries every value.
            let defaults = (try? AlgorithmRegistry.named(entry.algorithm).resolve([:])) ?? [:]
            let parameters = entry.params.keys.sorted().filter { defaults[$0] != entry.params[$0] }
                .map { "\($0)=\(formatNumber(entry.params[$0]!))" }.joined(separator: ", ")
            let value = entry.metrics[metric].map { String(format: "%.4f ± %.4f", $0, entry.metricsStd[metric] ?? 0) } ?? "n/a"
            let stopped = entry.isComplete ? "" : "  \(entry.outcome?.rawValue ?? "") after \(entry.foldsEvaluated ?? 0) folds: \(entry.reason ?? "")"
            return "  \(rank + 1). \("\(entry.algorithm)(\(parameters))".padding(toLength: 58, withPad: " ", startingAt: 0)) \(value)  \(String(format: "%.2f", entry.fitSeconds)) s/fold\(stopped)"
        }
    }

    /// Feature importances, most important first: permutation (and gain, for trees).
    static func importanceLines(_ importance: [FeatureImportance], metric: String) -> [String] {
        ["feature importance (increase of held-out \(metric) when shuffled\(importance.contains { $0.gain != nil } ? "; share of tree gain" : "")):"]
            + importance.map { entry in
                let gain = entry.gain.map { String(format: "  gain %.3f", $0) } ?? ""
                return "  \(entry.feature.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(format: "%+.4f ± %.4f", entry.permutation, entry.permutationStd))\(gain)"
            }
    }

    /// What a cross-validation adds below its figures: the random-fold comparison of a
    /// time-ordered one, the prediction intervals or sets, and the warnings.
    static func validationLines(randomFolds: SchemeComparison?, conformal: ConformalCalibration?, warnings: [String], task: LearningTask) -> [String] {
        var lines: [String] = []
        if let randomFolds {
            let metric = ModelSearch.primaryMetric(for: task)
            let value = randomFolds.metrics[metric].map { String(format: "%.4f ± %.4f", $0, randomFolds.metricsStd[metric] ?? 0) } ?? "n/a"
            lines.append("the same on random folds, for comparison: \(metric) \(value)")
        }
        if let conformal {
            let percent = "\(formatNumber((conformal.coverage * 1000).rounded() / 10))%"
            if let half = conformal.halfWidth {
                lines.append("prediction intervals: the prediction ± \(String(format: "%.4g", half)) holds the actual value in \(percent) of new rows (conformal, from \(conformal.calibrationRows) out-of-fold residuals)")
            } else if let minimum = conformal.minimumProbability {
                lines.append("prediction sets: the labels with a probability of at least \(String(format: "%.3f", minimum)) hold the actual label in \(percent) of new rows (conformal, from \(conformal.calibrationRows) out-of-fold rows)")
            }
        }
        lines += warnings.map { "warning: \($0)" }
        return lines
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Runs a command body; a domain error becomes one line on standard error and exit status 1.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as TestbedError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `name  mean ± std` lines, in a stable order.
    static func metricLines(_ metrics: [String: Double], spread: [String: Double]? = nil) -> [String] {
        metrics.keys.sorted().map { name in
            let value = String(format: "%.4f", metrics[name]!)
            let std = spread?[name].map { String(format: " ± %.4f", $0) } ?? ""
            return "  \(name.padding(toLength: 18, withPad: " ", startingAt: 0))\(value)\(std)"
        }
    }
}

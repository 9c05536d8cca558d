import ArgumentParser
import Foundation
import InferenceCore

/// `testbed train`: cross-validate, fit on all rows, save the model file.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a model on a CSV file and save it as a model file.")

    @OptionGroup var input: DataOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var parallelism: ThreadOptions

    @Option(name: .long, help: "Where to write the model file (JSON).")
    var out: String

    func run() throws {
        parallelism.apply()
        try Console.run {
            guard let target = model.target else { throw ValidationError("train needs --target COLUMN") }
            let table = try input.read(textColumns: [target])
            let digest = try FileDigest.sha256(ofFile: input.data)
            let trained = try TrainedModel.train(table, spec: try model.spec(target: target),
                                                 sourceFile: URL(fileURLWithPath: input.data).lastPathComponent, sourceSHA256: digest,
                                                 timeBudget: model.timeBudget, progress: Console.progress)
            for note in trained.training.notes { Console.note(note) }
            try trained.save(to: out)
            print("trained \(trained.algorithm) (\(trained.task.rawValue)) on \(trained.training.rows) rows to predict '\(target)'; saved to \(out)")
            if let leaderboard = trained.training.leaderboard {
                Console.leaderboardLines(leaderboard, metric: ModelSearch.primaryMetric(for: trained.task)).forEach { print($0) }
            }
            if let evaluation = trained.training.evaluation {
                print("cross-validated on \(evaluation.validation?.summary ?? "\(evaluation.folds) folds") (mean ± std):")
                Console.metricLines(evaluation.metrics, spread: evaluation.metricsStd).forEach { print($0) }
                if let outer = evaluation.outerHoldOut {
                    print("auto's winner, fitted on \(outer.selectionRows) rows, on the \(outer.rows) rows its selection never saw (the card's figures; ± over bootstrap resamples):")
                    Console.metricLines(outer.metrics, spread: outer.metricsStd).forEach { print($0) }
                }
                Console.validationLines(randomFolds: trained.training.randomFolds, conformal: evaluation.conformal,
                                        warnings: trained.training.warnings ?? [], task: trained.task).forEach { print($0) }
            }
        }
    }
}

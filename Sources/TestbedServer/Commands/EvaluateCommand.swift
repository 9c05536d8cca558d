import ArgumentParser
import Foundation
import InferenceCore

/// `testbed evaluate`: cross-validate an algorithm on a file, or measure a saved model on labelled data.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Cross-validate an algorithm on a CSV file, or measure a saved model (--model) on labelled data.")

    @OptionGroup var input: DataOptions
    @OptionGroup var options: ModelOptions
    @OptionGroup var parallelism: ThreadOptions

    @Option(name: .long, help: "A saved model file to measure instead of cross-validating.")
    var model: String?

    @Flag(name: .long, help: "Print the result as one JSON object.")
    var json = false

    @Flag(name: .long, inversion: .prefixedNo, help: "Measure permutation (and, for trees, gain) importance of every feature on the held-out rows; it costs a few predictions per feature and fold.")
    var importance = true

    /// The JSON result of `evaluate`.
    struct Report: Encodable {
        var task: LearningTask
        var target: String
        var algorithm: String
        var parameters: Hyperparameters
        var rows: Int
        var folds: Int?
        var metrics: [String: Double]
        var metricsStd: [String: Double]?
        var classes: [String]?
        var confusionMatrix: [[Int]]?
        /// Classification, cross-validated: the reliability table of the out-of-fold probabilities.
        var reliability: [ReliabilityBin]?
        /// With `--algorithm auto`: the metric candidates were ranked on, and every candidate.
        var primaryMetric: String?
        var leaderboard: [LeaderboardEntry]?
        /// Cross-validated: permutation importance of every feature on held-out rows (gain too, for trees).
        var importance: [FeatureImportance]?
        /// Cross-validated: how the rows were split, and why.
        var validation: ValidationPlan?
        /// With time-ordered folds: the same algorithm on random folds.
        var randomFolds: SchemeComparison?
        /// Cross-validated: the calibration of the prediction intervals or sets.
        var conformal: ConformalCalibration?
        /// Signs that the figures are too good to be true.
        var warnings: [String]?

        enum CodingKeys: String, CodingKey {
            case task, target, algorithm, parameters, rows, folds, metrics, classes, leaderboard, reliability, importance
            case validation, conformal, warnings
            case randomFolds = "random_folds"
            case metricsStd = "metrics_std"
            case confusionMatrix = "confusion_matrix"
            case primaryMetric = "primary_metric"
        }
    }

    func run() throws {
        parallelism.apply()
        try Console.run {
            let report = try model.map(measureSavedModel) ?? crossValidate()
            if json { return try Console.printJSON(report) }
            let how = report.validation.map { "cross-validated on \($0.summary), mean ± std" } ?? "the saved model on \(report.rows) labelled rows"
            print("\(report.algorithm) \(report.task.rawValue) of '\(report.target)', \(report.rows) rows, \(how):")
            Console.metricLines(report.metrics, spread: report.metricsStd).forEach { print($0) }
            Console.validationLines(randomFolds: report.randomFolds, conformal: report.conformal, warnings: report.warnings ?? [],
                                    task: report.task).forEach { print($0) }
            if let leaderboard = report.leaderboard {
                Console.leaderboardLines(leaderboard, metric: ModelSearch.primaryMetric(for: report.task)).forEach { print($0) }
            }
            if let importance = report.importance {
                Console.importanceLines(importance, metric: PermutationImportance.metric(for: report.task)).forEach { print($0) }
            }
        }
    }

    private func crossValidate() throws -> Report {
        guard let target = options.target else {
            throw ValidationError("evaluate needs --target COLUMN (or --model MODEL.json to measure a saved model)")
        }
        let table = try input.read(textColumns: [target])
        let choice = try ModelChoice(table, spec: options.spec(target: target), crossValidate: true, importance: importance,
                                     timeBudget: options.timeBudget, progress: Console.progress)
        choice.notes.forEach(Console.note)
        let (prepared, parameters, leaderboard, result) = (choice.prepared, choice.parameters, choice.leaderboard, choice.evaluation!)
        return Report(task: prepared.target.task, target: target, algorithm: prepared.algorithm.name, parameters: parameters,
                      rows: prepared.table.rowCount, folds: result.folds, metrics: result.metrics, metricsStd: result.metricsStd,
                      classes: prepared.target.task == .classification ? prepared.target.classes : nil,
                      confusionMatrix: result.confusionMatrix, reliability: result.reliability,
                      primaryMetric: leaderboard.map { _ in ModelSearch.primaryMetric(for: prepared.target.task) }, leaderboard: leaderboard,
                      importance: result.importance, validation: result.validation, randomFolds: choice.randomFolds,
                      conformal: result.conformal, warnings: choice.warnings)
    }

    private func measureSavedModel(_ path: String) throws -> Report {
        let trained = try TrainedModel.load(from: path)
        let table = try input.read(textColumns: trained.textColumns)
        if let source = trained.training.sourceSHA256, try FileDigest.sha256(ofFile: input.data) == source {
            Console.note("this is the file the model was trained on, so these figures are optimistic; its cross-validated figures are in the model file")
        }
        let (metrics, confusion, rows) = try trained.evaluate(on: table)
        return Report(task: trained.task, target: trained.target, algorithm: trained.algorithm, parameters: trained.parameters,
                      rows: rows, folds: nil, metrics: metrics, metricsStd: nil,
                      classes: trained.task == .classification ? trained.classes : nil, confusionMatrix: confusion,
                      reliability: nil, primaryMetric: nil, leaderboard: nil, importance: nil)
    }
}

import ArgumentParser
import Foundation
import InferenceCore

/// `testbed predict`: score a CSV file with a saved model.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict every row of a CSV file with a saved model; writes a CSV with a prediction column, its interval (lower, upper) or prediction set, and class probabilities.")

    @OptionGroup var input: DataOptions

    @Option(name: .long, help: "The model file.")
    var model: String

    @Option(name: .long, help: "Where to write the predictions (default: standard output).")
    var out: String?

    @Flag(name: .long, help: "Add each row's largest feature contributions (reason_N, contribution_N) and their base_value.")
    var explain = false

    @Option(name: .long, help: "How many contributions --explain adds per row.")
    var top = 3

    @Option(name: .long, help: "Two classes: decide the second class when its probability reaches this (adds a decision column).")
    var threshold: Double?

    @Option(name: .long, help: "A JSON file with the cost matrix costs[actual][decided] (classes in the model's order): decide the class with the least expected cost (adds a decision column).")
    var costs: String?

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top \(top): must be at least 1") }
    }

    func run() throws {
        try Console.run {
            let trained = try TrainedModel.load(from: model)
            let table = try input.read(textColumns: trained.textColumns)
            let ignored = table.columnNames.filter { !trained.preprocessor.inputColumns.contains($0) }
            if !ignored.isEmpty {
                Console.note("ignored column\(ignored.count == 1 ? "" : "s") not used by the model: \(ignored.joined(separator: ", "))")
            }
            let rule = try DecisionRule(threshold: threshold, costs: try costs.map(Self.readCosts), model: trained)
            let predictions = try trained.predict(table)
            let warned = predictions.warnings.filter { !$0.isEmpty }.count
            if warned > 0 {
                Console.note("\(warned) of \(table.rowCount) rows have warnings, for example: \(predictions.warnings.first { !$0.isEmpty }!.joined(separator: "; "))")
            }
            var explanation: Explanation?
            if explain {
                explanation = try trained.explain(table, predictions: predictions)
                Console.note(PredictionCSV.describe(explanation!, task: trained.task))
            }
            let decisions = threshold != nil || costs != nil ? rule : nil
            let csv = PredictionCSV.render(predictions, explanation: explanation, top: top, decisions: decisions)
            if let out {
                try Data(csv.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
                print("wrote \(table.rowCount) predictions to \(out)")
            } else {
                print(csv, terminator: "")
            }
        }
    }

    /// A cost matrix from a JSON file: an array of rows of numbers.
    static func readCosts(_ path: String) throws -> [[Double]] {
        // A cost matrix is a few numbers: a larger file is not one, and is not read.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size, size <= 1 << 20 else {
            throw TestbedError(.invalidParameter, "the costs file '\(path)' \(size == nil ? "cannot be read" : "is larger than 1 MiB"); expected a JSON matrix such as [[0, 1], [10, 0]]")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TestbedError(.io, "cannot read the costs file '\(path)': \(error.localizedDescription)")
        }
        guard let costs = try? JSONDecoder().decode([[Double]].self, from: data) else {
            throw TestbedError(.invalidParameter, "the costs file '\(path)' is not a JSON matrix such as [[0, 1], [10, 0]] (costs[actual][decided])")
        }
        return costs
    }
}

/// The CSV that `predict` writes: `prediction`, then `proba_<label>` per class, `decision` with a
/// decision rule, `lower`, `upper` (regression) or `prediction_set` (labels joined by `|`) when the
/// model is calibrated, then with an explanation `base_value` and the largest contributions as
/// `reason_N`, `contribution_N`.
enum PredictionCSV {
    static func render(_ predictions: Predictions, explanation: Explanation? = nil, top: Int = 3, decisions: DecisionRule? = nil) -> String {
        var header = ["prediction"]
        if predictions.task == .classification { header += predictions.classes.map { "proba_\($0)" } }
        if decisions != nil && predictions.task == .classification { header.append("decision") }
        if predictions.intervals != nil { header += ["lower", "upper"] }
        if predictions.predictionSets != nil { header.append("prediction_set") }
        let reasons = min(top, explanation?.features.count ?? 0)
        if explanation != nil { header += ["base_value"] + (1..<(reasons + 1)).flatMap { ["reason_\($0)", "contribution_\($0)"] } }
        var lines = [header.map(quoted).joined(separator: ",")]
        lines.reserveCapacity(predictions.values.count + 1)
        for row in predictions.values.indices {
            var fields: [String]
            switch predictions.task {
            case .regression:
                fields = ["\(predictions.values[row])"]
                if let interval = predictions.intervals?[row] { fields += ["\(interval.lower)", "\(interval.upper)"] }
            case .classification:
                let probabilities = predictions.probabilities!.row(row)
                fields = [quoted(predictions.labels[row])] + probabilities.map { "\($0)" }
                if let decisions { fields.append(quoted(predictions.classes[decisions.decide(probabilities)])) }
                if let set = predictions.predictionSets?[row] { fields.append(quoted(set.map { predictions.classes[$0] }.joined(separator: "|"))) }
            }
            if let explanation {
                fields.append("\(explanation.base[row])")
                for reason in explanation.top(reasons, row: row) { fields += [quoted(reason.feature), "\(reason.contribution)"] }
            }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What the contribution columns mean, for the person reading them.
    static func describe(_ explanation: Explanation, task: LearningTask) -> String {
        let what: String
        switch (task, explanation.scale) {
        case (.regression, _): what = "the predicted value"
        case (_, .probability): what = "the probability of the predicted class"
        default: what = "the score of the predicted class (log-odds with two classes)"
        }
        return "contribution_N: how much the feature reason_N moved \(what) from base_value, the average over the training rows; base_value plus all contributions equals it"
    }

    /// A text cell as it is safe to hand to a spreadsheet: RFC 4180 quoting where the value needs
    /// it, and, as OWASP advises against CSV injection, a leading `'` before text that a
    /// spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
    /// return). A class label or a column name comes from a client's file; `=CMD|' /C calc'!A0`
    /// must reach Excel as text. Text that is a plain number (`-1`) stays as it is.
    static func quoted(_ value: String) -> String {
        var value = value
        if let first = value.unicodeScalars.first, formulaStarts.contains(first), Double(value) == nil {
            value = "'" + value
        }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\t" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]
}

import ArgumentParser
import Foundation
import InferenceCore

/// `testbed predict`: score a CSV file with a saved model.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict every row of a CSV file with a saved model; writes a CSV with a prediction column (and class probabilities).")

    @OptionGroup var input: DataOptions

    @Option(name: .long, help: "The model file.")
    var model: String

    @Option(name: .long, help: "Where to write the predictions (default: standard output).")
    var out: String?

    func run() throws {
        try Console.run {
            let trained = try TrainedModel.load(from: model)
            let table = try input.read(textColumns: trained.textColumns)
            let ignored = table.columnNames.filter { !trained.preprocessor.inputColumns.contains($0) }
            if !ignored.isEmpty {
                Console.note("ignored column\(ignored.count == 1 ? "" : "s") not used by the model: \(ignored.joined(separator: ", "))")
            }
            let predictions = try trained.predict(table)
            let warned = predictions.warnings.filter { !$0.isEmpty }.count
            if warned > 0 {
                Console.note("\(warned) of \(table.rowCount) rows have warnings, for example: \(predictions.warnings.first { !$0.isEmpty }!.joined(separator: "; "))")
            }
            let csv = PredictionCSV.render(predictions)
            if let out {
                try Data(csv.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
                print("wrote \(table.rowCount) predictions to \(out)")
            } else {
                print(csv, terminator: "")
            }
        }
    }
}

/// The CSV that `predict` writes: `prediction`, then `proba_<label>` per class.
enum PredictionCSV {
    static func render(_ predictions: Predictions) -> String {
        var header = ["prediction"]
        if predictions.task == .classification { header += predictions.classes.map { "proba_\($0)" } }
        var lines = [header.map(quoted).joined(separator: ",")]
        lines.reserveCapacity(predictions.values.count + 1)
        for row in predictions.values.indices {
            switch predictions.task {
            case .regression:
                lines.append("\(predictions.values[row])")
            case .classification:
                let probabilities = predictions.probabilities!.row(row).map { "\($0)" }
                lines.append(([quoted(predictions.labels[row])] + probabilities).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// RFC 4180 quoting where a value needs it.
    static func quoted(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

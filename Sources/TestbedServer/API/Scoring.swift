import Foundation
import InferenceCore
import NIOPosix

/// A prediction as JSON: a number for regression, the class label for classification.
enum PredictedValue: Codable, Sendable, Equatable {
    case number(Double)
    case label(String)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .label(let label): try container.encode(label)
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Double.self) { self = .number(value) } else { self = .label(try container.decode(String.self)) }
    }
}

/// One scored row of `/predict`.
struct ScoredRow: Codable, Sendable {
    struct Reason: Codable, Sendable {
        var feature: String
        var contribution: Double
    }
    var prediction: PredictedValue
    var probabilities: [String: Double]?
    /// Regression: the conformal interval, `[lower, upper]`, at the model's coverage.
    var interval: [Double]?
    /// Classification: the labels that cannot be ruled out at the model's coverage.
    var predictionSet: [String]?
    var decision: String?
    /// Where the contributions start: the average output over the training rows.
    var baseValue: Double?
    var contributions: [Reason]?
    var warnings: [String]
    /// For reporting the actual outcome later (`POST …/feedback`); absent with monitoring off.
    var predictionId: String?

    enum CodingKeys: String, CodingKey {
        case prediction, probabilities, decision, contributions, warnings, interval
        case predictionId = "prediction_id"
        case baseValue = "base_value"
        case predictionSet = "prediction_set"
    }
}

/// What `/predict`, `/whatif` and the Open Inference Protocol share: a table in, predictions,
/// decisions and reasons out, counted in the metrics, heavy batches off the event loop.
enum Scoring {
    struct Options: Sendable {
        var decision: DecisionRule = .mostProbable
        /// How many contributions per row; `nil` for none.
        var explainTop: Int?
    }

    /// Rows above which a batch is scored on the thread pool rather than inline.
    static let inlineRows = 1024

    /// Predictions (and explanations when asked for) for `table`.
    static func predict(_ served: ServedModel, _ table: DataTable, explain: Bool = false) async throws -> (Predictions, Explanation?) {
        let model = served.model
        let work: @Sendable () throws -> (Predictions, Explanation?) = {
            let predictions = try model.predict(table, missingColumns: .impute)
            let explanation = explain ? try model.explain(table, predictions: predictions, missingColumns: .impute) : nil
            return (predictions, explanation)
        }
        let cost = table.rowCount * (explain ? 16 : 1)
        let result = cost > inlineRows ? try await NIOThreadPool.singleton.runIfActive(work) : try work()
        try checkFinite(result.0)
        served.counters.predictions.increment()
        served.counters.rows.increment(by: table.rowCount)
        return result
    }

    /// Refuses predictions that are not finite numbers: inputs near ±1.8e308 can overflow a
    /// model's arithmetic, and such an answer cannot be written as JSON anyway.
    private static func checkFinite(_ predictions: Predictions) throws {
        let bad = predictions.values.firstIndex { !$0.isFinite }
            ?? predictions.intervals?.firstIndex { !$0.lower.isFinite || !$0.upper.isFinite }
            ?? predictions.probabilities.flatMap { probabilities in
                probabilities.storage.firstIndex { !$0.isFinite }.map { $0 / max(probabilities.columns, 1) }
            }
        if let row = bad {
            throw TestbedError(.unsuitableData, "row \(row + 1): the prediction is not a finite number; its inputs are too far outside what the model was trained on")
        }
    }

    /// The rows of a `/predict` answer, and what the contributions are measured in when explained.
    static func rows(_ served: ServedModel, _ table: DataTable, extraWarnings: [[String]], options: Options) async throws
        -> (rows: [ScoredRow], scale: ContributionScale?, predictions: Predictions) {
        let model = served.model
        let (predictions, explanation) = try await predict(served, table, explain: options.explainTop != nil)
        let rows = predictions.values.indices.map { row in
            var scored = ScoredRow(prediction: .number(predictions.values[row]), warnings: predictions.warnings[row] + extraWarnings[row])
            scored.interval = predictions.intervals.map { [$0[row].lower, $0[row].upper] }
            scored.predictionSet = predictions.predictionSets.map { $0[row].map { model.classes[$0] } }
            if model.task == .classification, let probabilities = predictions.probabilities?.row(row) {
                scored.prediction = .label(predictions.labels[row])
                scored.probabilities = Dictionary(uniqueKeysWithValues: zip(model.classes, probabilities))
                scored.decision = model.classes[options.decision.decide(probabilities)]
            }
            if let explanation, let top = options.explainTop {
                scored.baseValue = explanation.base[row]
                scored.contributions = explanation.top(top, row: row).map { ScoredRow.Reason(feature: $0.feature, contribution: $0.contribution) }
            }
            return scored
        }
        return (rows, explanation?.scale, predictions)
    }
}

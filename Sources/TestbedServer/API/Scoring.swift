import Foundation
import InferenceCore
import NIOPosix

/// How a classifier's probabilities become a decision.
enum DecisionPolicy: Sendable {
    /// The most probable class.
    case mostProbable
    /// Two classes: the second (positive) class when its probability reaches the threshold.
    case threshold(Double)
    /// The class with the least expected cost; `costs[actual][decided]`, in the model's class order.
    case costs([[Double]])

    init(threshold: Double?, costs: [[Double]]?, model: TrainedModel) throws {
        switch (threshold, costs) {
        case (nil, nil):
            self = .mostProbable
        case (_?, _?):
            throw APIError.badRequest("give either 'threshold' or 'costs', not both", code: "invalid_parameter")
        case (let threshold?, nil):
            guard model.task == .classification, model.classes.count == 2 else {
                throw APIError.badRequest("'threshold' applies to classifiers with two classes; this model has \(model.task == .classification ? "\(model.classes.count) classes" : "a numeric target"); use 'costs' for more classes", code: "invalid_parameter")
            }
            guard threshold.isFinite, threshold >= 0, threshold <= 1 else {
                throw APIError.badRequest("threshold == \(threshold); expected a probability from 0 to 1 for class '\(model.classes[1])'", code: "invalid_parameter")
            }
            self = .threshold(threshold)
        case (nil, let costs?):
            let count = model.classes.count
            guard model.task == .classification else {
                throw APIError.badRequest("'costs' applies to classifiers; this model predicts a number", code: "invalid_parameter")
            }
            guard costs.count == count, costs.allSatisfy({ $0.count == count }),
                  costs.allSatisfy({ $0.allSatisfy { $0.isFinite && $0 >= 0 } }) else {
                throw APIError.badRequest("'costs' must be a \(count) × \(count) matrix of non-negative numbers, costs[actual][decided], with classes in the order \(model.classes)", code: "invalid_parameter")
            }
            self = .costs(costs)
        }
    }

    /// The decided class index for one row of probabilities.
    func decide(_ probabilities: [Double]) -> Int {
        switch self {
        case .mostProbable:
            return probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
        case .threshold(let threshold):
            return probabilities[1] >= threshold ? 1 : 0
        case .costs(let costs):
            let expected = probabilities.indices.map { decided in
                probabilities.indices.reduce(0.0) { $0 + probabilities[$1] * costs[$1][decided] }
            }
            return expected.indices.min { expected[$0] < expected[$1] } ?? 0
        }
    }
}

/// A prediction as JSON: a number for regression, the class label for classification.
enum PredictedValue: Encodable, Sendable, Equatable {
    case number(Double)
    case label(String)

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .label(let label): try container.encode(label)
        }
    }
}

/// One scored row of `/predict`.
struct ScoredRow: Encodable, Sendable {
    struct Reason: Encodable, Sendable {
        var feature: String
        var contribution: Double
    }
    var prediction: PredictedValue
    var probabilities: [String: Double]?
    var decision: String?
    /// Where the contributions start: the average output over the training rows.
    var baseValue: Double?
    var contributions: [Reason]?
    var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case prediction, probabilities, decision, contributions, warnings
        case baseValue = "base_value"
    }
}

/// What `/predict`, `/whatif` and the Open Inference Protocol share: a table in, predictions,
/// decisions and reasons out, counted in the metrics, heavy batches off the event loop.
enum Scoring {
    struct Options: Sendable {
        var decision: DecisionPolicy = .mostProbable
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
            ?? predictions.probabilities.flatMap { probabilities in
                probabilities.storage.firstIndex { !$0.isFinite }.map { $0 / max(probabilities.columns, 1) }
            }
        if let row = bad {
            throw TestbedError(.unsuitableData, "row \(row + 1): the prediction is not a finite number; its inputs are too far outside what the model was trained on")
        }
    }

    /// The rows of a `/predict` answer, and what the contributions are measured in when explained.
    static func rows(_ served: ServedModel, _ table: DataTable, extraWarnings: [[String]], options: Options) async throws
        -> (rows: [ScoredRow], scale: ContributionScale?) {
        let model = served.model
        let (predictions, explanation) = try await predict(served, table, explain: options.explainTop != nil)
        let rows = predictions.values.indices.map { row in
            var scored = ScoredRow(prediction: .number(predictions.values[row]), warnings: predictions.warnings[row] + extraWarnings[row])
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
        return (rows, explanation?.scale)
    }
}

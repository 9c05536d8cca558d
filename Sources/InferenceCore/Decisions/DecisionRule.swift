/// How a classifier's probabilities become a decision: the same rule for `testbed predict
/// --threshold/--costs` and the API's `threshold`/`costs`.
public enum DecisionRule: Sendable, Equatable {
    /// The most probable class.
    case mostProbable
    /// Two classes: the second (positive) class when its probability reaches the threshold.
    case threshold(Double)
    /// The class with the least expected cost; `costs[actual][decided]`, in the model's class order.
    case costs([[Double]])

    /// Checks a threshold or a cost matrix against `model`; neither gives the most probable class.
    public init(threshold: Double?, costs: [[Double]]?, model: TrainedModel) throws {
        switch (threshold, costs) {
        case (nil, nil):
            self = .mostProbable
        case (_?, _?):
            throw TestbedError(.invalidParameter, "give either a threshold or costs, not both")
        case (let threshold?, nil):
            guard model.task == .classification, model.classes.count == 2 else {
                throw TestbedError(.invalidParameter, "a threshold applies to classifiers with two classes; this model has \(model.task == .classification ? "\(model.classes.count) classes" : "a numeric target"); use costs for more classes")
            }
            guard threshold.isFinite, threshold >= 0, threshold <= 1 else {
                throw TestbedError(.invalidParameter, "threshold == \(threshold); expected a probability from 0 to 1 for class '\(model.classes[1].clipped())'")
            }
            self = .threshold(threshold)
        case (nil, let costs?):
            let count = model.classes.count
            guard model.task == .classification else {
                throw TestbedError(.invalidParameter, "costs apply to classifiers; this model predicts a number")
            }
            guard costs.count == count, costs.allSatisfy({ $0.count == count }),
                  costs.allSatisfy({ $0.allSatisfy { $0.isFinite && $0 >= 0 } }) else {
                throw TestbedError(.invalidParameter, "costs must be a \(count) × \(count) matrix of non-negative numbers, costs[actual][decided], with classes in the order \(model.classes.map { $0.clipped(to: 40) })")
            }
            self = .costs(costs)
        }
    }

    /// The decided class index for one row of probabilities.
    public func decide(_ probabilities: [Double]) -> Int {
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

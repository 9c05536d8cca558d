import Foundation
import InferenceCore

/// How good a version's predictions turned out, from the outcomes reported for them, set
/// against what cross-validation promised on its card.
struct LiveQuality: Codable, Sendable {
    struct Promise: Codable, Sendable {
        var mean: Double
        var std: Double?
    }
    /// The outcomes of one UTC day of predictions.
    struct Day: Codable, Sendable {
        var day: String
        var outcomes: Int
        var metrics: [String: Double]
        var coverage: Double?
    }
    var version: Int
    /// Outcomes the figures are measured over: the latest ones, at most `--live-outcomes`.
    var outcomes: Int
    var primaryMetric: String
    /// The same metrics as the card's cross-validation, over those outcomes.
    var metrics: [String: Double]
    /// The share of actual values inside the interval (or set) served with the prediction.
    var coverage: Double?
    var promisedCoverage: Double?
    var promised: Promise?
    /// The live figure lies outside the promise, its mean ± 2 standard deviations over the folds,
    /// over at least ``minOutcomes`` outcomes (fewer say too little to raise an alarm).
    var flagged: Bool
    var message: String
    var days: [Day]

    enum CodingKeys: String, CodingKey {
        case version, outcomes, metrics, coverage, promised, flagged, message, days
        case primaryMetric = "primary_metric", promisedCoverage = "promised_coverage"
    }

    static let minOutcomes = 30

    /// One outcome as measured: what was predicted and what happened.
    struct Outcome: Sendable {
        var predicted: LoggedPrediction
        /// Regression: the actual value; classification: the actual class index.
        var actual: Double
    }

    /// `outcomes` newest first; `latest` of them make the headline figures, all of them the days
    /// (the routes read at most ``MonitoringRoutes/maxOutcomesRead``).
    init(version: Int, model: TrainedModel, outcomes: [Outcome], latest: Int) {
        self.version = version
        let metric = ModelSearch.primaryMetric(for: model.task)
        primaryMetric = metric
        let evaluation = model.training.evaluation
        promised = evaluation?.metrics[metric].map { Promise(mean: $0, std: evaluation?.metricsStd[metric]) }
        promisedCoverage = evaluation?.conformal?.coverage
        let recent = Array(outcomes.prefix(latest))
        self.outcomes = recent.count
        (metrics, coverage) = Self.measure(recent, model: model)
        let live = metrics[metric]
        if let live, let promised, let std = promised.std, recent.count >= Self.minOutcomes {
            flagged = abs(live - promised.mean) > 2 * std
        } else {
            flagged = false
        }
        func figure(_ value: Double) -> String { String(format: "%.4g", value) }
        if let live {
            let promise = promised.map { "; cross-validation promised \(figure($0.mean))" + ($0.std.map { " ± \(figure($0))" } ?? "") } ?? ""
            let higherIsBetter = MetricCatalog.named(metric)?.higherIsBetter ?? true
            let verdict = !flagged ? "" : (live > promised!.mean) == higherIsBetter ? " (better than promised)" : " (worse than promised)"
            message = "live \(metric) \(figure(live)) over the last \(recent.count) outcome\(recent.count == 1 ? "" : "s")\(promise)\(verdict)"
        } else if recent.isEmpty {
            message = "no outcomes reported yet for version \(version); POST them to /api/v1/models/{name}/feedback"
        } else {
            message = "live \(metric) cannot be computed over the last \(recent.count) outcomes: a prediction or an outcome is so far from the rest that the figure overflows"
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let byDay = Dictionary(grouping: outcomes) { formatter.string(from: $0.predicted.at) }
        days = byDay.keys.sorted().map { day in
            let (metrics, coverage) = Self.measure(byDay[day]!, model: model)
            return Day(day: day, outcomes: byDay[day]!.count, metrics: metrics, coverage: coverage)
        }
    }

    private static func measure(_ outcomes: [Outcome], model: TrainedModel) -> ([String: Double], Double?) {
        guard !outcomes.isEmpty else { return ([:], nil) }
        let metrics: [String: Double]
        var covered: [Bool] = []
        switch model.task {
        case .regression:
            metrics = RegressionMetrics.compute(actual: outcomes.map(\.actual), predicted: outcomes.map(\.predicted.value))
            for outcome in outcomes {
                guard let band = outcome.predicted.interval, band.count == 2 else { continue }
                covered.append(band[0] <= outcome.actual && outcome.actual <= band[1])
            }
        case .classification:
            let classes = model.classes.count
            // Every logged classification carries its probabilities; a row without them counts as certain of its label.
            let rows = outcomes.map { outcome in
                outcome.predicted.probabilities ?? (0..<classes).map { $0 == Int(outcome.predicted.value) ? 1 : 0 }
            }
            metrics = ClassificationMetrics.compute(actual: outcomes.map { Int($0.actual) }, probabilities: Matrix(rows))
            for outcome in outcomes {
                guard let set = outcome.predicted.set else { continue }
                covered.append(set.contains(Int(outcome.actual)))
            }
        }
        let coverage = covered.isEmpty ? nil : Double(covered.filter { $0 }.count) / Double(covered.count)
        // JSON has no infinity: a metric that overflowed (or R² of a constant) is left out.
        return (metrics.filter { $0.value.isFinite }, coverage)
    }
}

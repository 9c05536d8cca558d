import Foundation
import Hummingbird
import InferenceCore

/// What a model is, how good it is and what it expects: the model card of `GET /api/v1/models/{name}`.
struct ModelCard: ResponseEncodable, Decodable {
    struct Metric: Codable {
        var mean: Double
        var std: Double?
    }
    struct Feature: Codable {
        var name: String
        var kind: String
        var missingShare: Double?
        var min: Double?
        var max: Double?
        var mean: Double?
        /// Categorical features: the training categories, most frequent first.
        var categories: [String]?
        /// Timestamp features: the earliest and latest training time (ISO 8601, wall clock).
        var first: String?
        var last: String?
        enum CodingKeys: String, CodingKey { case name, kind, min, max, mean, categories, first, last; case missingShare = "missing_share" }
    }
    struct Source: Codable {
        var dataset: String?
        var file: String?
        var sha256: String?
        var job: String?
        var rows: Int
    }

    /// The serving version's recipe on this version's folds, and the two figures in one line.
    struct Comparison: Codable {
        var version: Int
        var algorithm: String
        var folds: Int
        var metrics: [String: Metric]
        var summary: String
    }

    /// A member of an ensemble: its family (and that family's title), hyper-parameters and weight.
    struct EnsembleMemberView: Codable {
        var algorithm: String
        var title: String
        var parameters: Hyperparameters
        var weight: Double
    }

    var name: String
    /// This card's version, the one the name serves, and how many versions the name has.
    var version: Int
    var servingVersion: Int
    var versions: Int
    var demonstration: Bool
    var story: String?
    var task: String
    var target: String
    var algorithm: String
    var parameters: Hyperparameters
    /// The `ensemble` family: its members, heaviest first (absent for other families).
    var ensemble: [EnsembleMemberView]?
    var classes: [String]?
    var primaryMetric: String
    /// Cross-validated: mean and standard deviation over the folds.
    var metrics: [String: Metric]
    var folds: Int?
    /// `auto`: the winner scored on rows its selection never saw; `metrics` are these figures.
    var outerHoldOut: OuterHoldOut?
    var leaderboard: [LeaderboardEntry]?
    var features: [Feature]
    var importance: [FeatureImportance]?
    var confusionMatrix: [[Int]]?
    var reliability: [ReliabilityBin]?
    /// Regression: out-of-fold predictions against actual values (a sample of the rows).
    var predictedVsActual: [OutOfFoldPoint]?
    /// How the rows were split for the figures above, and why.
    var validation: ValidationPlan?
    var comparison: Comparison?
    /// With time-ordered folds: the same algorithm on random folds, for comparison.
    var randomFolds: SchemeComparison?
    /// The prediction intervals or sets: their coverage and width.
    var conformal: ConformalCalibration?
    /// Signs that the figures are too good to be true, each naming the column and what to do.
    var warnings: [String]
    var explainable: Bool
    var notes: [String]
    var source: Source
    var createdAt: String
    var libraryVersion: String
    /// Where to download this version for other runtimes, by format (`onnx`): a GET with the same key.
    var exports: [String: String]

    enum CodingKeys: String, CodingKey {
        case name, demonstration, story, task, target, algorithm, parameters, ensemble, classes, metrics, folds, leaderboard, features, exports
        case importance, reliability, explainable, notes, source, validation, conformal, warnings, version, versions, comparison
        case servingVersion = "serving_version"
        case outerHoldOut = "outer_hold_out"
        case randomFolds = "random_folds"
        case primaryMetric = "primary_metric"
        case confusionMatrix = "confusion_matrix"
        case predictedVsActual = "predicted_vs_actual"
        case createdAt = "created_at"
        case libraryVersion = "library_version"
    }

    init(_ served: ServedModel, versions series: ModelVersions) {
        let model = served.model
        let evaluation = model.training.evaluation
        (version, servingVersion, versions) = (served.version, series.serving, max(series.records.count, 1))
        let summaries = Dictionary(model.training.featureSummaries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        name = served.name
        demonstration = served.isDemonstration
        story = served.story
        task = model.task.rawValue
        target = model.target
        algorithm = model.algorithm
        parameters = model.parameters
        ensemble = model.ensemble?.members.map { member in
            EnsembleMemberView(algorithm: member.algorithm, title: (try? AlgorithmRegistry.named(member.algorithm))?.title ?? member.algorithm,
                               parameters: member.parameters, weight: member.weight)
        }
        classes = model.task == .classification ? model.classes : nil
        primaryMetric = ModelSearch.primaryMetric(for: model.task)
        metrics = (evaluation?.metrics ?? [:]).mapValues { Metric(mean: $0, std: nil) }
        for (metric, spread) in evaluation?.metricsStd ?? [:] { metrics[metric]?.std = spread }
        folds = evaluation?.folds
        outerHoldOut = evaluation?.outerHoldOut
        if let outer = outerHoldOut {
            metrics = outer.metrics.mapValues { Metric(mean: $0, std: nil) }
            for (metric, spread) in outer.metricsStd { metrics[metric]?.std = spread }
        }
        let (metrics, primaryMetric) = (metrics, primaryMetric)
        comparison = served.record?.comparison.flatMap { try? JSONDecoder().decode(VersionComparison.self, from: $0) }.map { baseline in
            var figures = baseline.metrics.mapValues { Metric(mean: $0, std: nil) }
            for (metric, spread) in baseline.metricsStd { figures[metric]?.std = spread }
            func figure(_ metric: Metric?) -> String {
                guard let metric else { return "not measured" }
                return String(format: "%.4g", metric.mean) + (metric.std.map { String(format: " ± %.2g", $0) } ?? "")
            }
            let summary = "version \(served.version): \(primaryMetric) \(figure(metrics[primaryMetric])); "
                + "version \(baseline.version) (serving when this one was trained, \(baseline.algorithm)): \(figure(figures[primaryMetric])) on the same \(baseline.folds) folds"
            return Comparison(version: baseline.version, algorithm: baseline.algorithm, folds: baseline.folds, metrics: figures, summary: summary)
        }
        leaderboard = model.training.leaderboard
        features = model.features.map { feature in
            let summary = summaries[feature.name]
            let categories = summary?.categoryCounts.map { counts in counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key) }
            // A timestamp's range is in seconds since 1970, which reads as nothing on a card.
            let numeric = feature.kind != .timestamp
            return Feature(name: feature.name, kind: feature.kind.rawValue, missingShare: summary?.missingShare,
                           min: numeric ? summary?.min : nil, max: numeric ? summary?.max : nil, mean: numeric ? summary?.mean : nil,
                           categories: categories, first: numeric ? nil : summary?.min.flatMap(TimeProfile.iso8601),
                           last: numeric ? nil : summary?.max.flatMap(TimeProfile.iso8601))
        }
        importance = evaluation?.importance
        confusionMatrix = evaluation?.confusionMatrix
        reliability = evaluation?.reliability
        predictedVsActual = evaluation?.predictedVsActual
        validation = evaluation.map { $0.validation ?? .random(folds: $0.folds, reason: "random folds (a model from before time and group splits)") }
        randomFolds = model.training.randomFolds
        conformal = evaluation?.conformal
        warnings = model.training.warnings ?? []
        explainable = model.isExplainable
        notes = model.training.notes
        source = Source(dataset: served.record?.datasetId, file: model.training.sourceFile, sha256: model.training.sourceSHA256,
                        job: served.record?.jobId, rows: model.training.rows)
        createdAt = model.createdAt
        libraryVersion = model.libraryVersion
        // An ensemble cannot be exported (docs/onnx-export.md).
        exports = model.ensemble != nil ? [:] : Dictionary(uniqueKeysWithValues: ExportFormat.allCases.map { format in
            (format.rawValue, ExportRoutes.path(name: served.name, version: served.version, format: format))
        })
    }
}

/// A line of `GET /api/v1/models`.
struct ModelSummary: ResponseEncodable, Decodable {
    var name: String
    /// The serving version.
    var version: Int
    var demonstration: Bool
    var task: String
    var target: String
    var algorithm: String
    var primaryMetric: String
    var score: Double?
    var createdAt: String
    enum CodingKeys: String, CodingKey {
        case name, version, demonstration, task, target, algorithm, score
        case primaryMetric = "primary_metric"
        case createdAt = "created_at"
    }

    init(_ served: ServedModel) {
        let model = served.model
        version = served.version
        (name, demonstration, task, target, algorithm) = (served.name, served.isDemonstration, model.task.rawValue, model.target, model.algorithm)
        primaryMetric = ModelSearch.primaryMetric(for: model.task)
        score = model.training.evaluation?.metrics[primaryMetric]
        createdAt = model.createdAt
    }
}

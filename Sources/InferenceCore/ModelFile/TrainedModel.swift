import Foundation

/// A trained model with everything needed to use it and to judge it: the feature schema, the
/// fitted preprocessing, the weights, how it was trained and how well it did on held-out rows.
///
/// Saved as a versioned JSON document (see `docs/model-format.md`).
public struct TrainedModel: Sendable {
    /// The `format` field every model file carries.
    public static let formatName = "applied-ai-testbed-model"
    /// The newest format version this library reads and the one it writes. Version 2 added
    /// timestamp features (a `time` preprocessing step), the validation plan, conformal
    /// calibration and warnings: a version-1 reader would misread or refuse such a file without
    /// saying why.
    public static let formatVersion = 2

    public var algorithm: String
    public var parameters: Hyperparameters
    public var task: LearningTask
    public var target: String
    /// Classification: the class labels as written in the training file, in probability order.
    public var classes: [String]
    public var features: [FeatureSpec]
    /// The fitted preprocessing; for an ``ensemble``, its lead member's, which reads the
    /// features and reports the inputs' warnings.
    public var preprocessor: Preprocessor
    /// The fitted model; for an ``ensemble``, its lead member's alone. Predict, explain and export
    /// through ``TrainedModel``, which use every member.
    public var model: any FittedModel
    /// The members of a model of the `ensemble` family (``Ensemble/familyName``), `nil` for
    /// every other family.
    public var ensemble: Ensemble?
    public var training: TrainingRecord
    public var libraryVersion: String
    /// When the model was trained, ISO 8601 in UTC.
    public var createdAt: String

    public init(algorithm: String, parameters: Hyperparameters, task: LearningTask, target: String, classes: [String],
                features: [FeatureSpec], preprocessor: Preprocessor, model: any FittedModel, training: TrainingRecord,
                createdAt: Date = Date()) {
        self.algorithm = algorithm
        self.parameters = parameters
        self.task = task
        self.target = target
        self.classes = classes
        self.features = features
        self.preprocessor = preprocessor
        self.model = model
        self.training = training
        self.libraryVersion = TestbedVersion.current
        self.createdAt = ISO8601DateFormatter().string(from: createdAt)
    }

    /// A model of the `ensemble` family: `ensemble`'s members make its predictions, its lead
    /// member's preprocessing reads the features.
    public init(ensemble: Ensemble, task: LearningTask, target: String, classes: [String], features: [FeatureSpec],
                training: TrainingRecord, createdAt: Date = Date()) {
        self.init(algorithm: Ensemble.familyName, parameters: [:], task: task, target: target, classes: classes, features: features,
                  preprocessor: ensemble.lead.preprocessor, model: ensemble.lead.model, training: training, createdAt: createdAt)
        self.ensemble = ensemble
    }
}

/// How a model was trained, on what, and its cross-validated quality.
public struct TrainingRecord: Sendable, Codable, Equatable {
    /// Rows used (those with a target value).
    public var rows: Int
    public var sourceFile: String?
    /// SHA-256 of the training file, to tell later which data a model came from.
    public var sourceSHA256: String?
    public var seed: UInt64
    /// Cross-validated metrics (mean and spread over `evaluation.folds`), never training-set figures.
    public var evaluation: CrossValidationResult?
    /// With time-ordered folds: the same algorithm on random folds, for comparison.
    public var randomFolds: SchemeComparison?
    /// With `--algorithm auto`: every candidate's cross-validated result, best first.
    public var leaderboard: [LeaderboardEntry]?
    /// Per feature: the training distribution, used to warn about inputs outside it.
    public var featureSummaries: [FeatureSummary]
    /// Signs that the figures are too good to be true (absent in older files: none checked).
    public var warnings: [String]?
    public var notes: [String]
    /// The training distribution of the inputs and predictions, which served requests are compared
    /// with (absent in older files: no monitoring reference).
    public var driftReference: DriftReference?

    enum CodingKeys: String, CodingKey {
        case rows, seed, evaluation, leaderboard, notes, warnings
        case randomFolds = "random_folds"
        case sourceFile = "source_file"
        case sourceSHA256 = "source_sha256"
        case featureSummaries = "feature_summaries"
        case driftReference = "drift_reference"
    }
}

/// The training distribution of one feature.
public struct FeatureSummary: Sendable, Codable, Equatable {
    public var name: String
    public var missingShare: Double
    /// Numeric and yes/no features (yes/no as 0/1); timestamps as seconds since 1970 (UTC).
    public var min: Double?
    public var max: Double?
    public var mean: Double?
    public var std: Double?
    /// Categorical features: rows per category.
    public var categoryCounts: [String: Int]?

    enum CodingKeys: String, CodingKey {
        case name, min, max, mean, std
        case missingShare = "missing_share"
        case categoryCounts = "category_counts"
    }

    /// Summarises the column `name` of `table`.
    init(_ feature: FeatureSpec, in table: DataTable) throws {
        let values = try table.column(named: feature.name).values
        name = feature.name
        missingShare = Double(values.missingCount) / Double(Swift.max(table.rowCount, 1))
        var numbers: [Double]?
        switch (feature.kind, values) {
        case (.numeric, .numeric(let column)):
            numbers = column
        case (.boolean, .text(let codes, let levels)):
            numbers = BooleanLevels(levels)?.numbers(codes: codes, levels: levels)
        case (.timestamp, .text(let codes, let levels)):
            numbers = feature.timestampFormat.map { Preprocessor.seconds(codes: codes, levels: levels, format: $0, wallClock: true) }
        default:
            let (codes, levels) = values.textCodes
            var counts: [String: Int] = [:]
            for code in codes where code >= 0 { counts[levels[Int(code)], default: 0] += 1 }
            categoryCounts = counts
        }
        if let numbers, let summary = NumericSummary(numbers) {
            (min, max, mean, std) = (summary.min, summary.max, summary.mean, summary.std)
        }
    }
}

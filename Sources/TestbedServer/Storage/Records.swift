import Foundation
import InferenceCore

/// One SME pilot: its datasets, jobs and models are visible to its keys only.
struct TenantRecord: Codable, Sendable {
    /// A short name chosen by the hub (letters, digits, '-', '_'), used in URLs and logs.
    var id: String
    var displayName: String
    var createdAt: Date
    /// Days that served predictions stay matchable to feedback before they are erased.
    var predictionRetentionDays: Int = 30
    /// Whether the input rows of predictions are kept with them (off unless the tenant turns it on).
    var logInputs: Bool = false
}

/// An API key. Only a SHA-256 digest of its secret part is stored.
struct APIKeyRecord: Codable, Sendable {
    /// The public part of the key, which finds the record without revealing the secret.
    var id: String
    var tenantId: String
    var secretDigest: Data
    var createdAt: Date
    var revokedAt: Date?
}

/// An uploaded table, stored as the bytes that were sent.
struct DatasetRecord: Codable, Sendable {
    var id: String
    var tenantId: String
    var name: String
    var fileName: String
    var byteCount: Int
    var rowCount: Int
    var columnCount: Int
    var sha256: String
    /// The ``DatasetProfile`` as JSON, computed once at upload.
    var profile: Data
    var createdAt: Date
}

/// A training run and everything a client may ask about it while it runs and after.
struct JobRecord: Codable, Sendable {
    enum State: String, Codable, Sendable, CaseIterable {
        case queued, running, succeeded, failed, cancelled, interrupted
        var isFinal: Bool { self != .queued && self != .running }
    }
    var id: String
    var tenantId: String
    var datasetId: String
    var target: String
    var task: LearningTask?
    var algorithm: AlgorithmChoice
    var folds: Int
    var seed: Int
    /// The requested scheme (`nil`: inferred when the job runs) and its columns.
    var split: SplitScheme?
    var timeColumn: String?
    var groupColumn: String?
    var gap: Int
    var coverage: Double
    var timeBudgetSeconds: Double
    /// The name the model gets when the job succeeds: its first version, or the next one.
    var modelName: String
    /// Whether the new version serves as soon as the job succeeds (a name's first version always does).
    var promote: Bool = false
    /// The version the job registered, once it succeeded.
    var modelVersion: Int?
    var state: State
    var progress: Double
    var message: String
    /// Finished `auto` candidates as JSON (`[LeaderboardEntry]`), in the order they finished.
    var leaderboard: Data?
    var error: String?
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
}

/// One version of a model trained for a tenant; the model file itself is on disk.
struct ModelRecord: Codable, Sendable {
    var id: String
    var tenantId: String
    var name: String
    /// 1, 2, …: numbers are never reused, even after a version is deleted.
    var version: Int
    var fileName: String
    var datasetId: String?
    var jobId: String?
    /// The serving version's recipe cross-validated on this version's folds (``VersionComparison`` as JSON).
    var comparison: Data?
    var createdAt: Date
}

/// A model name of a tenant: which of its versions serves, and the number the next one gets.
struct ModelSeriesRecord: Codable, Sendable {
    var tenantId: String
    var name: String
    var servingVersion: Int
    var nextVersion: Int
}

/// The bin counts of one closed monitoring window of a served model version (``DriftCounts`` as JSON).
struct MonitoringWindowRecord: Codable, Sendable {
    var id: Int64?
    var tenantId: String
    var modelName: String
    var version: Int
    var startedAt: Date
    var endedAt: Date
    var rows: Int
    var counts: Data

}

/// Served predictions of one model version, written together (``PredictionLogCodec``'s form):
/// feedback finds a prediction by its id's sequence number within `firstSeq...lastSeq`.
struct PredictionBatchRecord: Codable, Sendable {
    var id: Int64?
    var tenantId: String
    var modelName: String
    var version: Int
    /// The serving process's id prefix (a new one at every start).
    var prefix: String
    var firstSeq: Int64
    var lastSeq: Int64
    var createdAt: Date
    var payload: Data

}

/// An actual outcome reported for a served prediction.
struct OutcomeRecord: Codable, Sendable {
    var tenantId: String
    var predictionId: String
    var modelName: String
    var version: Int
    var predictedAt: Date
    var receivedAt: Date
    /// What was predicted (``LoggedPrediction`` as JSON).
    var predicted: Data
    /// Regression: the actual number as text; classification: the actual label.
    var actual: String
}

/// Who did what, when: every change to tenants, keys, datasets, jobs and models.
struct AuditRecord: Codable, Sendable {
    var id: Int64?
    var at: Date
    var tenantId: String?
    var actor: String
    var action: String
    var subject: String

}

extension JobRecord {
    /// The job's split as the core takes it.
    var splitRequest: SplitRequest {
        SplitRequest(scheme: split, timeColumn: timeColumn, groupColumn: groupColumn, gap: gap)
    }
}

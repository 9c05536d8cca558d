import Foundation
import InferenceCore
import PostgresNIO

// The records as PostgreSQL rows: each selected with its `columns`, in that order.

extension TenantRecord {
    static let columns = "id, display_name, created_at, prediction_retention_days, log_inputs"

    init(_ row: PostgresRow) throws {
        (id, displayName, createdAt, predictionRetentionDays, logInputs) = try row.decode((String, String, Date, Int, Bool).self)
    }
}

extension APIKeyRecord {
    static let columns = "id, tenant_id, secret_digest, created_at, revoked_at"

    init(_ row: PostgresRow) throws {
        (id, tenantId, secretDigest, createdAt, revokedAt) = try row.decode((String, String, Data, Date, Date?).self)
    }
}

extension DatasetRecord {
    static let columns = "id, tenant_id, name, file_name, byte_count, row_count, column_count, sha256, profile, created_at"

    init(_ row: PostgresRow) throws {
        (id, tenantId, name, fileName, byteCount, rowCount, columnCount, sha256, profile, createdAt)
            = try row.decode((String, String, String, String, Int, Int, Int, String, Data, Date).self)
    }
}

extension JobRecord {
    static let columns = """
        id, tenant_id, dataset_id, target, task, algorithm, folds, seed, split, time_column, group_column, gap, coverage,
        time_budget_seconds, model_name, promote, model_version, state, progress, message, leaderboard, error,
        created_at, started_at, finished_at
        """

    init(_ row: PostgresRow) throws {
        // Enumerations are stored as their raw text (their Codable form would be JSON).
        let (algorithmText, taskText, splitText, stateText): (String, String?, String?, String)
        (id, tenantId, datasetId, target, taskText, algorithmText, folds, seed, splitText, timeColumn, groupColumn, gap, coverage,
         timeBudgetSeconds, modelName, promote, modelVersion, stateText, progress, message, leaderboard, error,
         createdAt, startedAt, finishedAt)
            = try row.decode((String, String, String, String, String?, String, Int, Int, String?, String?, String?, Int, Double,
                              Double, String, Bool, Int?, String, Double, String, Data?, String?,
                              Date, Date?, Date?).self)
        algorithm = try algorithmText.isEmpty ? .taskDefault : AlgorithmChoice(parsing: algorithmText)
        let job = id
        func stored<Value: RawRepresentable<String>>(_ text: String, as field: String) throws -> Value {
            guard let value = Value(rawValue: text) else { throw StorageError("job \(job) has the unknown \(field) '\(text)'") }
            return value
        }
        state = try stored(stateText, as: "state")
        task = try taskText.map { try stored($0, as: "task") }
        split = try splitText.map { try stored($0, as: "split") }
    }

    /// The algorithm as stored: its written form (`auto`, `gbdt,ridge`), empty for the task default.
    var algorithmText: String { algorithm.text ?? "" }
}

extension ModelRecord {
    static let columns = "id, tenant_id, name, version, file_name, dataset_id, job_id, comparison, created_at"

    init(_ row: PostgresRow) throws {
        (id, tenantId, name, version, fileName, datasetId, jobId, comparison, createdAt)
            = try row.decode((String, String, String, Int, String, String?, String?, Data?, Date).self)
    }
}

extension ModelSeriesRecord {
    static let columns = "tenant_id, name, serving_version, next_version"

    init(_ row: PostgresRow) throws {
        (tenantId, name, servingVersion, nextVersion) = try row.decode((String, String, Int, Int).self)
    }
}

extension MonitoringWindowRecord {
    static let columns = "id, tenant_id, model_name, version, started_at, ended_at, rows, counts"

    init(_ row: PostgresRow) throws {
        (id, tenantId, modelName, version, startedAt, endedAt, rows, counts)
            = try row.decode((Int64?, String, String, Int, Date, Date, Int, Data).self)
    }
}

extension PredictionBatchRecord {
    static let columns = "id, tenant_id, model_name, version, prefix, first_seq, last_seq, created_at, payload"

    init(_ row: PostgresRow) throws {
        (id, tenantId, modelName, version, prefix, firstSeq, lastSeq, createdAt, payload)
            = try row.decode((Int64?, String, String, Int, String, Int64, Int64, Date, Data).self)
    }
}

extension OutcomeRecord {
    static let columns = "tenant_id, prediction_id, model_name, version, predicted_at, received_at, predicted, actual"

    init(_ row: PostgresRow) throws {
        (tenantId, predictionId, modelName, version, predictedAt, receivedAt, predicted, actual)
            = try row.decode((String, String, String, Int, Date, Date, Data, String).self)
    }
}

extension AuditRecord {
    static let columns = "id, at, tenant_id, actor, action, subject"

    init(_ row: PostgresRow) throws {
        (id, at, tenantId, actor, action, subject) = try row.decode((Int64?, Date, String?, String, String, String).self)
    }
}

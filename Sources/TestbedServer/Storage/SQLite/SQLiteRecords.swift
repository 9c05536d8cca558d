import Foundation
import GRDB
import InferenceCore

// The records as GRDB reads and writes them: a table each, columns named as the properties.

extension TenantRecord: FetchableRecord, PersistableRecord { static let databaseTableName = "tenant" }
extension APIKeyRecord: FetchableRecord, PersistableRecord { static let databaseTableName = "apiKey" }
extension DatasetRecord: FetchableRecord, PersistableRecord { static let databaseTableName = "dataset" }
extension JobRecord: FetchableRecord, PersistableRecord { static let databaseTableName = "job" }
extension ModelRecord: FetchableRecord, PersistableRecord { static let databaseTableName = "model" }
extension ModelSeriesRecord: FetchableRecord, PersistableRecord { static let databaseTableName = "modelSeries" }
extension OutcomeRecord: FetchableRecord, PersistableRecord { static let databaseTableName = "outcome" }

extension MonitoringWindowRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "monitoringWindow"
    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension PredictionBatchRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "predictionBatch"
    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension AuditRecord: FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "auditLog"
    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension LearningTask: DatabaseValueConvertible {}
extension SplitScheme: DatabaseValueConvertible {}

/// Stored as the written form `auto`, `gbdt` or `gbdt,ridge` (empty for the task default).
extension AlgorithmChoice: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { (text ?? "").databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> AlgorithmChoice? {
        guard let text = String.fromDatabaseValue(dbValue) else { return nil }
        return text.isEmpty ? .taskDefault : try? AlgorithmChoice(parsing: text)
    }
}


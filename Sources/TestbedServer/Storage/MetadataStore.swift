import Foundation
import GRDB
import InferenceCore

/// Tenants, keys, datasets, jobs, models and the audit log, in SQLite (WAL mode) through GRDB.
///
/// Reads and writes run on GRDB's own queues, never on the event loop; a `DatabasePool` lets
/// readers proceed while a write is in progress.
struct MetadataStore: Sendable {
    let pool: DatabasePool

    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "testbed.metadata"
        configuration.prepareDatabase { db in
            // Full sync: an acknowledged change survives a power cut, not only a crash.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// The file names that dataset and model records point to.
    func recordedFileNames() throws -> (datasets: Set<String>, models: Set<String>) {
        try pool.read { db in
            (Set(try DatasetRecord.fetchAll(db).map(\.fileName)), Set(try ModelRecord.fetchAll(db).map(\.fileName)))
        }
    }

    /// The schema, one migration per change; applied migrations are recorded by GRDB.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: tenants, keys, datasets, jobs, models, audit log") { db in
            try db.create(table: "tenant") { t in
                t.primaryKey("id", .text)
                t.column("displayName", .text).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "apiKey") { t in
                t.primaryKey("id", .text)
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("secretDigest", .blob).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("revokedAt", .datetime)
            }
            try db.create(table: "dataset") { t in
                t.primaryKey("id", .text)
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade).indexed()
                t.column("name", .text).notNull()
                t.column("fileName", .text).notNull()
                t.column("byteCount", .integer).notNull()
                t.column("rowCount", .integer).notNull()
                t.column("columnCount", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("profile", .blob).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "job") { t in
                t.primaryKey("id", .text)
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade).indexed()
                t.column("datasetId", .text).notNull()
                t.column("target", .text).notNull()
                t.column("task", .text)
                t.column("algorithm", .text).notNull()
                t.column("folds", .integer).notNull()
                t.column("seed", .integer).notNull()
                t.column("timeBudgetSeconds", .double).notNull()
                t.column("modelName", .text).notNull()
                t.column("state", .text).notNull().indexed()
                t.column("progress", .double).notNull()
                t.column("message", .text).notNull()
                t.column("leaderboard", .blob)
                t.column("error", .text)
                t.column("createdAt", .datetime).notNull()
                t.column("startedAt", .datetime)
                t.column("finishedAt", .datetime)
            }
            try db.create(table: "model") { t in
                t.primaryKey("id", .text)
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("fileName", .text).notNull()
                t.column("datasetId", .text)
                t.column("jobId", .text)
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["tenantId", "name"])
            }
            try db.create(table: "auditLog") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .datetime).notNull()
                t.column("tenantId", .text).indexed()
                t.column("actor", .text).notNull()
                t.column("action", .text).notNull()
                t.column("subject", .text).notNull()
            }
        }
        migrator.registerMigration("v2: a job's split scheme and interval coverage") { db in
            try db.alter(table: "job") { t in
                t.add(column: "split", .text)
                t.add(column: "timeColumn", .text)
                t.add(column: "groupColumn", .text)
                t.add(column: "gap", .integer).notNull().defaults(to: 0)
                // A literal: a migration stays as it ran, whatever the default becomes.
                t.add(column: "coverage", .double).notNull().defaults(to: 0.9)
            }
        }
        return migrator
    }

    /// Appends to the audit log inside the caller's transaction, so the change and its record
    /// are written together or not at all.
    static func audit(_ db: Database, tenant: String?, actor: String, action: String, subject: String) throws {
        var record = AuditRecord(id: nil, at: Date(), tenantId: tenant, actor: actor, action: action, subject: subject)
        try record.insert(db)
    }
}

import Foundation
import GRDB

/// The SQLite schema: one migration per change, applied in order and recorded by GRDB. A
/// migration stays as it ran; a change is a new one.
enum SQLiteSchema {
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
        migrator.registerMigration("v3: model versions, monitoring windows, predictions and their outcomes, retention") { db in
            // SQLite cannot drop the (tenant, name) unique key: the table is made again with
            // versions, every existing model becoming version 1 of its name and serving.
            try db.create(table: "modelVersioned") { t in
                t.primaryKey("id", .text)
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("version", .integer).notNull()
                t.column("fileName", .text).notNull()
                t.column("datasetId", .text)
                t.column("jobId", .text)
                t.column("comparison", .blob)
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["tenantId", "name", "version"])
            }
            try db.execute(sql: """
                INSERT INTO modelVersioned (id, tenantId, name, version, fileName, datasetId, jobId, createdAt)
                SELECT id, tenantId, name, 1, fileName, datasetId, jobId, createdAt FROM model
                """)
            try db.drop(table: "model")
            try db.rename(table: "modelVersioned", to: "model")
            try db.create(table: "modelSeries") { t in
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("servingVersion", .integer).notNull()
                t.column("nextVersion", .integer).notNull()
                t.primaryKey(["tenantId", "name"])
            }
            try db.execute(sql: "INSERT INTO modelSeries (tenantId, name, servingVersion, nextVersion) SELECT tenantId, name, 1, 2 FROM model")
            try db.alter(table: "job") { t in
                t.add(column: "promote", .boolean).notNull().defaults(to: false)
                t.add(column: "modelVersion", .integer)
            }
            try db.alter(table: "tenant") { t in
                t.add(column: "predictionRetentionDays", .integer).notNull().defaults(to: 30)
                t.add(column: "logInputs", .boolean).notNull().defaults(to: false)
            }
            try db.create(table: "monitoringWindow") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("modelName", .text).notNull()
                t.column("version", .integer).notNull()
                t.column("startedAt", .datetime).notNull()
                t.column("endedAt", .datetime).notNull()
                t.column("rows", .integer).notNull()
                t.column("counts", .blob).notNull()
            }
            try db.create(index: "monitoringWindowByModel", on: "monitoringWindow", columns: ["tenantId", "modelName", "version", "startedAt"])
            try db.create(table: "predictionBatch") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("modelName", .text).notNull()
                t.column("version", .integer).notNull()
                t.column("prefix", .text).notNull()
                t.column("firstSeq", .integer).notNull()
                t.column("lastSeq", .integer).notNull()
                t.column("createdAt", .datetime).notNull().indexed()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "predictionBatchBySequence", on: "predictionBatch", columns: ["tenantId", "prefix", "firstSeq"])
            try db.create(table: "outcome") { t in
                t.column("tenantId", .text).notNull().references("tenant", onDelete: .cascade)
                t.column("predictionId", .text).notNull()
                t.column("modelName", .text).notNull()
                t.column("version", .integer).notNull()
                t.column("predictedAt", .datetime).notNull()
                t.column("receivedAt", .datetime).notNull()
                t.column("predicted", .blob).notNull()
                t.column("actual", .text).notNull()
                t.primaryKey(["tenantId", "predictionId"])
            }
            try db.create(index: "outcomeByModel", on: "outcome", columns: ["tenantId", "modelName", "version", "predictedAt"])
        }
        migrator.registerMigration("v4: job leases and cancel requests") { db in
            try db.alter(table: "job") { t in
                t.add(column: "leaseOwner", .text)
                t.add(column: "leaseExpiresAt", .datetime)
                t.add(column: "cancelRequested", .boolean).notNull().defaults(to: false)
            }
        }
        return migrator
    }
}

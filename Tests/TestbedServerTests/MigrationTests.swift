import Foundation
import GRDB
import InferenceCore
import Testing
@testable import TestbedServer

/// A data directory written before a schema change opens with every record intact.
@Suite("database migrations")
struct MigrationTests {
    /// Jobs stored before splits and coverage (schema v1) read back with the defaults they ran
    /// with, their algorithm choices as they were written then.
    @Test func jobsFromBeforeSplitsReadBackWithTheirDefaults() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("migration-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteSchema.migrator.migrate(queue, upTo: "v1: tenants, keys, datasets, jobs, models, audit log")
            try queue.write { db in
                try db.execute(sql: "INSERT INTO tenant (id, displayName, createdAt) VALUES ('shop', 'Shop', '2026-11-01 10:00:00.000')")
                for (id, algorithm, task) in [("a", "auto", nil), ("b", "gbdt,ridge", "regression"), ("c", "knn", "classification")] as [(String, String, String?)] {
                    try db.execute(sql: """
                        INSERT INTO job (id, tenantId, datasetId, target, task, algorithm, folds, seed, timeBudgetSeconds, modelName,
                                         state, progress, message, createdAt)
                        VALUES (?, 'shop', 'd', 'y', ?, ?, 5, 0, 60, ?, 'succeeded', 1, 'done', '2026-11-01 10:00:00.000')
                        """, arguments: [id, task, algorithm, "model-\(id)"])
                }
            }
        }
        let store = try SQLiteStore(path: path)
        let jobs = try store.pool.read { try JobRecord.order(Column("id")).fetchAll($0) }
        #expect(jobs.map(\.algorithm) == [.search(), .search(families: ["gbdt", "ridge"]), .named("knn")])
        #expect(jobs.map(\.task) == [nil, .regression, .classification])
        #expect(jobs.allSatisfy { $0.split == nil && $0.timeColumn == nil && $0.groupColumn == nil && $0.gap == 0 && $0.coverage == 0.9 })
    }

    /// Models stored before versions (schema v2) become version 1 of their names, serving; the
    /// next version of a name is 2, and tenants keep predictions 30 days without inputs.
    @Test func modelsFromBeforeVersionsBecomeTheirFirstVersion() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("migration-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteSchema.migrator.migrate(queue, upTo: "v2: a job's split scheme and interval coverage")
            try queue.write { db in
                try db.execute(sql: "INSERT INTO tenant (id, displayName, createdAt) VALUES ('shop', 'Shop', '2026-11-01 10:00:00.000')")
                for name in ["rise", "glass"] {
                    try db.execute(sql: """
                        INSERT INTO model (id, tenantId, name, fileName, datasetId, jobId, createdAt)
                        VALUES (?, 'shop', ?, ?, 'd', 'j', '2026-11-01 10:00:00.000')
                        """, arguments: ["id-\(name)", name, "shop-\(name).json"])
                }
            }
        }
        let store = try SQLiteStore(path: path)
        let (models, series, tenant) = try store.pool.read { db in
            (try ModelRecord.order(Column("name")).fetchAll(db), try ModelSeriesRecord.order(Column("name")).fetchAll(db), try TenantRecord.fetchOne(db, key: "shop"))
        }
        #expect(models.map(\.name) == ["glass", "rise"] && models.allSatisfy { $0.version == 1 && $0.comparison == nil })
        #expect(models.map(\.fileName) == ["shop-glass.json", "shop-rise.json"])
        #expect(series.map(\.servingVersion) == [1, 1] && series.map(\.nextVersion) == [2, 2])
        #expect(tenant?.predictionRetentionDays == 30 && tenant?.logInputs == false)
    }

    @Test(arguments: [AlgorithmChoice.search(), .search(families: ["gbdt"]), .search(families: ["gbdt", "ridge"]), .named("gbdt"), .taskDefault])
    func everyAlgorithmChoiceReadsBackAsWritten(_ choice: AlgorithmChoice) throws {
        #expect(AlgorithmChoice.fromDatabaseValue(choice.databaseValue) == choice)
        let json = try JSONEncoder().encode([choice])
        #expect(try JSONDecoder().decode([AlgorithmChoice].self, from: json) == [choice])
    }
}

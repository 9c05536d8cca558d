import Foundation
import GRDB
import InferenceCore

/// The embedded store: one SQLite file (WAL mode) through GRDB, for one server process.
///
/// Reads and writes run on GRDB's own queues, never on the event loop; a `DatabasePool` lets
/// readers proceed while a write is in progress.
struct SQLiteStore: MetadataStore {
    let pool: DatabasePool

    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "testbed.metadata"
        configuration.prepareDatabase { db in
            // Full sync: an acknowledged change survives a power cut, not only a crash.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try SQLiteSchema.migrator.migrate(pool)
    }

    /// Appends to the audit log inside the caller's transaction, so the change and its record
    /// are written together or not at all.
    private static func audit(_ db: Database, tenant: String?, actor: String, action: String, subject: String) throws {
        var record = AuditRecord(id: nil, at: Date(), tenantId: tenant, actor: actor, action: action, subject: subject)
        try record.insert(db)
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch let error as DatabaseError { throw Self.translate(error) }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await pool.write(body) } catch let error as DatabaseError { throw Self.translate(error) }
    }

    /// SQLite's errors as the rest of the server knows them.
    private static func translate(_ error: DatabaseError) -> any Error {
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            // A tenant (or what the request refers to) was deleted while the request was handled.
            return StoreError.conflict("what this request refers to was deleted while it was handled; nothing was stored")
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            return StoreError.conflict("another request changed the same record at the same moment; nothing was stored, try again")
        default:
            if error.resultCode == .SQLITE_FULL { return StorageError("the database file cannot grow: \(error.message ?? "disk full")", errorNumber: ENOSPC) }
            return error
        }
    }

    private static let active = ["queued", "running"].contains(Column("state"))

    // MARK: Tenants and keys

    func createTenant(_ tenant: TenantRecord, key: APIKeyRecord) async throws {
        try await write { db in
            guard try !TenantRecord.exists(db, key: tenant.id) else {
                throw StoreError.conflict("a tenant '\(tenant.id.clipped())' already exists; issue it a new key with POST /api/v1/tenants/\(tenant.id)/keys")
            }
            try tenant.insert(db)
            try key.insert(db)
            try Self.audit(db, tenant: tenant.id, actor: "admin", action: "tenant.created", subject: tenant.id)
        }
    }

    func tenant(_ id: String) async throws -> TenantRecord? {
        try await read { try TenantRecord.fetchOne($0, key: id) }
    }

    func tenantsWithKeys() async throws -> [(tenant: TenantRecord, keys: [APIKeyRecord])] {
        try await read { db in
            let keys = Dictionary(grouping: try APIKeyRecord.order(Column("createdAt")).fetchAll(db), by: \.tenantId)
            return try TenantRecord.order(Column("createdAt")).fetchAll(db).map { ($0, keys[$0.id] ?? []) }
        }
    }

    func keys(of tenant: String?) async throws -> [APIKeyRecord] {
        try await read { db in
            if let tenant { return try APIKeyRecord.filter(Column("tenantId") == tenant).fetchAll(db) }
            return try APIKeyRecord.fetchAll(db)
        }
    }

    func addKey(_ key: APIKeyRecord) async throws {
        try await write { db in
            guard try TenantRecord.exists(db, key: key.tenantId) else { throw StoreError.notFound(.tenant(key.tenantId)) }
            try key.insert(db)
            try Self.audit(db, tenant: key.tenantId, actor: "admin", action: "key.issued", subject: key.id)
        }
    }

    func revokeKey(_ id: String, of tenant: String) async throws {
        try await write { db in
            guard var key = try APIKeyRecord.filter(key: id).filter(Column("tenantId") == tenant).fetchOne(db) else {
                throw StoreError.notFound(.key(id, tenant: tenant))
            }
            guard key.revokedAt == nil else { return }
            key.revokedAt = Date()
            try key.update(db)
            try Self.audit(db, tenant: tenant, actor: "admin", action: "key.revoked", subject: id)
        }
    }

    func deleteTenant(_ id: String) async throws -> (datasetFiles: [String], modelFiles: [String]) {
        try await write { db in
            guard try TenantRecord.exists(db, key: id) else { throw StoreError.notFound(.tenant(id)) }
            let active = try JobRecord.filter(Column("tenantId") == id && Self.active).fetchCount(db)
            guard active == 0 else { throw StoreError.activeJobs(tenant: id, active: active) }
            let datasets = try DatasetRecord.filter(Column("tenantId") == id).fetchAll(db).map(\.fileName)
            let models = try ModelRecord.filter(Column("tenantId") == id).fetchAll(db).map(\.fileName)
            // The rest cascades from the tenant.
            _ = try TenantRecord.deleteOne(db, key: id)
            try Self.audit(db, tenant: id, actor: "admin", action: "tenant.deleted", subject: id)
            return (datasets, models)
        }
    }

    func updateSettings(of tenant: String, retentionDays: Int?, logInputs: Bool?) async throws -> TenantRecord {
        try await write { db in
            guard var record = try TenantRecord.fetchOne(db, key: tenant) else { throw StoreError.notFound(.tenant(tenant)) }
            record.predictionRetentionDays = retentionDays ?? record.predictionRetentionDays
            record.logInputs = logInputs ?? record.logInputs
            try record.update(db)
            try Self.audit(db, tenant: tenant, actor: tenant, action: "settings.changed", subject: record.settingsSummary)
            return record
        }
    }

    func tenantsLoggingInputs() async throws -> [String] {
        try await read { try String.fetchAll($0, sql: "SELECT id FROM tenant WHERE logInputs") }
    }

    func auditLog(limit: Int) async throws -> [AuditRecord] {
        try await read { try AuditRecord.order(Column("id").desc).limit(limit).fetchAll($0) }
    }

    // MARK: Datasets

    func addDataset(_ record: DatasetRecord) async throws {
        try await write { db in
            try record.insert(db)
            try Self.audit(db, tenant: record.tenantId, actor: record.tenantId, action: "dataset.uploaded", subject: record.id)
        }
    }

    func datasets(of tenant: String) async throws -> [DatasetRecord] {
        try await read { try DatasetRecord.filter(Column("tenantId") == tenant).order(Column("createdAt").desc).fetchAll($0) }
    }

    func dataset(_ id: String, of tenant: String?) async throws -> DatasetRecord? {
        try await read { db in
            let record = try DatasetRecord.fetchOne(db, key: id)
            return tenant == nil || record?.tenantId == tenant ? record : nil
        }
    }

    func deleteDataset(_ id: String, of tenant: String) async throws {
        try await write { db in
            guard try DatasetRecord.filter(key: id).filter(Column("tenantId") == tenant).deleteAll(db) > 0 else {
                throw StoreError.notFound(.dataset(id))
            }
            try Self.audit(db, tenant: tenant, actor: tenant, action: "dataset.deleted", subject: id)
        }
    }

    func recordedFileNames() async throws -> (datasets: Set<String>, models: Set<String>) {
        try await read { db in
            (Set(try DatasetRecord.fetchAll(db).map(\.fileName)), Set(try ModelRecord.fetchAll(db).map(\.fileName)))
        }
    }

    // MARK: Jobs

    func submitJob(_ job: JobRecord, activeLimit: Int) async throws {
        try await write { db in
            let active = try JobRecord.filter(Column("tenantId") == job.tenantId && Self.active).fetchCount(db)
            guard active < activeLimit else { throw StoreError.jobLimit(active: active, limit: activeLimit) }
            try job.insert(db)
            try Self.audit(db, tenant: job.tenantId, actor: job.tenantId, action: "job.created", subject: job.id)
        }
    }

    func job(_ id: String, of tenant: String?) async throws -> JobRecord? {
        try await read { db in
            let record = try JobRecord.fetchOne(db, key: id)
            return tenant == nil || record?.tenantId == tenant ? record : nil
        }
    }

    func jobs(of tenant: String) async throws -> [JobRecord] {
        try await read { try JobRecord.filter(Column("tenantId") == tenant).order(Column("createdAt").desc).fetchAll($0) }
    }

    func cancelJob(_ id: String, of tenant: String) async throws -> JobRecord {
        try await write { db in
            guard var job = try JobRecord.filter(Column("tenantId") == tenant).filter(key: id).fetchOne(db) else {
                throw StoreError.notFound(.job(id))
            }
            try job.cancel()
            try job.update(db)
            // A running job is stopped by whichever server runs it, when it renews its lease.
            if job.state == .running { try db.execute(sql: "UPDATE job SET cancelRequested = 1 WHERE id = ?", arguments: [id]) }
            try Self.audit(db, tenant: tenant, actor: tenant, action: "job.cancelled", subject: id)
            return job
        }
    }

    func recoverJobs() async throws -> Int {
        try await write { db in
            let stale = try JobRecord.filter(Column("state") == JobRecord.State.running.rawValue).fetchAll(db)
            for var job in stale {
                job.markInterruptedByRestart()
                try job.update(db)
            }
            return stale.count
        }
    }

    func claimJob(owner: String, leaseSeconds: Double) async throws -> JobRecord? {
        try await write { db in
            guard var job = try JobRecord.filter(Column("state") == JobRecord.State.queued.rawValue).order(Column("createdAt")).fetchOne(db) else { return nil }
            job.start()
            try job.update(db)
            try db.execute(sql: "UPDATE job SET leaseOwner = ?, leaseExpiresAt = ?, cancelRequested = 0 WHERE id = ?",
                           arguments: [owner, Date(timeIntervalSinceNow: leaseSeconds), job.id])
            return job
        }
    }

    func renewLease(of id: String, owner: String, leaseSeconds: Double) async throws -> JobLease {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT cancelRequested FROM job WHERE id = ? AND state = 'running' AND leaseOwner = ?",
                                             arguments: [id, owner]) else { return .lost }
            try db.execute(sql: "UPDATE job SET leaseExpiresAt = ? WHERE id = ?", arguments: [Date(timeIntervalSinceNow: leaseSeconds), id])
            return .held(cancelRequested: row["cancelRequested"])
        }
    }

    func expireLeases() async throws -> [String] {
        try await write { db in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM job WHERE state = 'running' AND leaseExpiresAt < ?", arguments: [Date()])
            for id in ids {
                guard var job = try JobRecord.fetchOne(db, key: id) else { continue }
                job.markLeaseEnded()
                try job.update(db)
                try Self.audit(db, tenant: job.tenantId, actor: "server", action: "job.interrupted", subject: id)
            }
            return ids
        }
    }

    func queuedJobCount() async throws -> Int {
        try await read { try JobRecord.filter(Column("state") == JobRecord.State.queued.rawValue).fetchCount($0) }
    }

    func recordProgress(of id: String, fraction: Double, message: String, leaderboard: Data?) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE job SET progress = ?, message = ?, leaderboard = ? WHERE id = ? AND state = 'running'",
                           arguments: [fraction, message, leaderboard, id])
        }
    }

    func finishJob(_ id: String, _ outcome: JobOutcome, owner: String) async throws -> JobRecord {
        try await write { db in
            guard var job = try JobRecord.fetchOne(db, key: id) else { throw StoreError.notFound(.job(id)) }
            let held = try Bool.fetchOne(db, sql: "SELECT state = 'running' AND leaseOwner = ? FROM job WHERE id = ?", arguments: [owner, id]) ?? false
            guard held else { return job }
            job.finish(outcome)
            try job.update(db)
            try db.execute(sql: "UPDATE job SET leaseOwner = NULL, leaseExpiresAt = NULL WHERE id = ?", arguments: [id])
            try Self.audit(db, tenant: job.tenantId, actor: "job \(id)", action: "job.\(outcome.state.rawValue)", subject: id)
            return job
        }
    }

    func modelNamesInUse(by tenant: String) async throws -> Set<String> {
        try await read { db in
            let claimed = try JobRecord.filter(Column("tenantId") == tenant && Self.active).fetchAll(db).map(\.modelName)
            let named = try ModelSeriesRecord.filter(Column("tenantId") == tenant && Column("servingVersion") > 0).fetchAll(db).map(\.name)
            return Set(claimed + named)
        }
    }

    // MARK: Replicas

    /// One server owns the database file (``DataDirectoryLock``).
    var isShared: Bool { false }

    func key(_ id: String) async throws -> APIKeyRecord? {
        try await read { try APIKeyRecord.fetchOne($0, key: id) }
    }

    /// One server: its admin key is whatever it was started with.
    func checkAdminKey(digest: Data) async throws {}

    func announce(_ change: StoreChange) async throws {}

    func watchChanges(_ apply: @escaping @Sendable ([StoreChange]) async -> Bool) async throws {}

    // MARK: Models

    /// The series of a model name that has versions; a deleted model's series is kept (serving
    /// version 0) only so that its version numbers are never given again.
    private static func series(_ name: String, _ tenant: String, in db: Database) throws -> ModelSeriesRecord? {
        try ModelSeriesRecord.filter(Column("tenantId") == tenant && Column("name") == name && Column("servingVersion") > 0).fetchOne(db)
    }

    private static func versionRecord(_ name: String, _ version: Int, _ tenant: String, in db: Database) throws -> ModelRecord? {
        try ModelRecord.filter(Column("tenantId") == tenant && Column("name") == name && Column("version") == version).fetchOne(db)
    }

    func modelVersion(_ name: String, version: Int?, of tenant: String) async throws -> (record: ModelRecord?, nameExists: Bool) {
        try await read { db in
            guard let series = try Self.series(name, tenant, in: db) else { return (nil, false) }
            return (try Self.versionRecord(name, version ?? series.servingVersion, tenant, in: db), true)
        }
    }

    func modelNames(of tenant: String) async throws -> [String] {
        try await read { try ModelRecord.filter(Column("tenantId") == tenant).order(Column("createdAt").desc).fetchAll($0).map(\.name) }
    }

    func versions(of name: String, tenant: String) async throws -> (serving: Int, records: [ModelRecord])? {
        try await read { db in
            guard let series = try Self.series(name, tenant, in: db) else { return nil }
            let records = try ModelRecord.filter(Column("tenantId") == tenant && Column("name") == name).order(Column("version")).fetchAll(db)
            return (series.servingVersion, records)
        }
    }

    func registerModel(_ draft: ModelDraft) async throws -> (record: ModelRecord, serves: Bool) {
        try await write { db in
            var series = try ModelSeriesRecord.filter(Column("tenantId") == draft.tenant && Column("name") == draft.name).fetchOne(db)
                ?? ModelSeriesRecord(tenantId: draft.tenant, name: draft.name, servingVersion: 0, nextVersion: 1)
            let (record, serves) = series.register(draft)
            try series.save(db)
            try record.insert(db)
            try Self.audit(db, tenant: draft.tenant, actor: draft.actor, action: "model.registered", subject: record.registrationSummary(serves: serves))
            return (record, serves)
        }
    }

    func promote(_ name: String, version: Int, of tenant: String) async throws -> Int {
        try await write { db in
            guard var series = try Self.series(name, tenant, in: db) else { throw StoreError.notFound(.model(name)) }
            guard try Self.versionRecord(name, version, tenant, in: db) != nil else { throw StoreError.notFound(.modelVersion(name, version: version)) }
            let previous = series.servingVersion
            series.servingVersion = version
            try series.update(db)
            try Self.audit(db, tenant: tenant, actor: tenant, action: "model.promoted", subject: "\(name) version \(version) (was \(previous))")
            return previous
        }
    }

    func deleteVersion(_ name: String, version: Int, of tenant: String) async throws -> ModelRecord {
        try await write { db in
            guard let series = try Self.series(name, tenant, in: db) else { throw StoreError.notFound(.model(name)) }
            guard let record = try Self.versionRecord(name, version, tenant, in: db) else { throw StoreError.notFound(.modelVersion(name, version: version)) }
            guard series.servingVersion != version else { throw StoreError.servingVersion(name, version) }
            _ = try ModelRecord.deleteOne(db, key: record.id)
            try Self.eraseUse(of: name, version: version, tenant: tenant, in: db)
            try Self.audit(db, tenant: tenant, actor: tenant, action: "model.version.deleted", subject: "\(name) version \(version)")
            return record
        }
    }

    func deleteModel(_ name: String, of tenant: String) async throws -> [ModelRecord] {
        try await write { db in
            guard var series = try Self.series(name, tenant, in: db) else { throw StoreError.notFound(.model(name)) }
            let versions = ModelRecord.filter(Column("tenantId") == tenant && Column("name") == name)
            let records = try versions.fetchAll(db)
            _ = try versions.deleteAll(db)
            series.servingVersion = 0
            try series.update(db)
            try Self.eraseUse(of: name, version: nil, tenant: tenant, in: db)
            try Self.audit(db, tenant: tenant, actor: tenant, action: "model.deleted", subject: name)
            return records
        }
    }

    /// Erases the monitoring windows, logged predictions and outcomes of a model (one version or all).
    private static func eraseUse(of name: String, version: Int?, tenant: String, in db: Database) throws {
        for table in [MonitoringWindowRecord.databaseTableName, PredictionBatchRecord.databaseTableName, OutcomeRecord.databaseTableName] {
            var filter = Column("tenantId") == tenant && Column("modelName") == name
            if let version { filter = filter && Column("version") == version }
            _ = try Table(table).filter(filter).deleteAll(db)
        }
    }

    // MARK: Monitoring and feedback

    func monitoringWindows(of name: String, version: Int, tenant: String, limit: Int) async throws -> [MonitoringWindowRecord] {
        try await read { db in
            try MonitoringWindowRecord.filter(Column("tenantId") == tenant && Column("modelName") == name && Column("version") == version)
                .order(Column("startedAt").desc).limit(limit).fetchAll(db)
        }
    }

    func outcomes(of name: String, version: Int, tenant: String, limit: Int) async throws -> [OutcomeRecord] {
        try await read { db in
            try OutcomeRecord.filter(Column("tenantId") == tenant && Column("modelName") == name && Column("version") == version)
                .order(Column("predictedAt").desc).limit(limit).fetchAll(db)
        }
    }

    func saveOutcomes(_ records: [OutcomeRecord], of name: String, tenant: String, checkVersions: Bool) async throws -> (replaced: Int, versions: [Int]) {
        try await write { db in
            let versions = Set(records.map(\.version)).sorted()
            if checkVersions, let gone = try versions.first(where: { try Self.versionRecord(name, $0, tenant, in: db) == nil }) {
                throw StoreError.conflict("version \(gone) of '\(name.clipped())' was deleted meanwhile; its predictions and outcomes went with it")
            }
            var replaced = 0
            for record in records {
                if try OutcomeRecord.exists(db, key: ["tenantId": tenant, "predictionId": record.predictionId]) { replaced += 1 }
                try record.save(db)
            }
            try Self.audit(db, tenant: tenant, actor: tenant, action: "model.feedback", subject: "\(name): \(records.count) outcomes")
            return (replaced, versions)
        }
    }

    func loggedPredictions(of name: String, tenant: String, ranges: [SequenceRange], ids: [String]) async throws
        -> (batches: [PredictionBatchRecord], outcomes: [OutcomeRecord]) {
        try await read { db in
            var batches: [Int64: PredictionBatchRecord] = [:]
            for range in ranges {
                for batch in try PredictionBatchRecord.filter(Column("tenantId") == tenant && Column("modelName") == name && Column("prefix") == range.prefix
                                                              && Column("firstSeq") <= range.high && Column("lastSeq") >= range.low).fetchAll(db) {
                    batches[batch.id!] = batch
                }
            }
            let outcomes = try OutcomeRecord.filter(Column("tenantId") == tenant && Column("modelName") == name && ids.contains(Column("predictionId"))).fetchAll(db)
            return (Array(batches.values), outcomes)
        }
    }

    func saveMonitoring(_ writes: [MonitoringWrite]) async throws -> Set<Int> {
        try await write { db in
            var gone = Set<Int>()
            for (index, write) in writes.enumerated() {
                let exists = try TenantRecord.exists(db, key: write.tenant)
                    && (try write.modelRecordID.map { try ModelRecord.exists(db, key: $0) } ?? true)
                guard exists else { gone.insert(index); continue }
                for var window in write.windows { try window.insert(db) }
                for var batch in write.batches { try batch.insert(db) }
            }
            return gone
        }
    }

    func prune(windowsBefore: Date, now: Date) async throws -> Int {
        try await write { db in
            var erased = try MonitoringWindowRecord.filter(Column("endedAt") < windowsBefore).deleteAll(db)
            for tenant in try TenantRecord.fetchAll(db) {
                let before = tenant.predictionsKeptSince(now)
                erased += try PredictionBatchRecord.filter(Column("tenantId") == tenant.id && Column("createdAt") < before).deleteAll(db)
                erased += try OutcomeRecord.filter(Column("tenantId") == tenant.id && Column("predictedAt") < before).deleteAll(db)
            }
            return erased
        }
    }
}

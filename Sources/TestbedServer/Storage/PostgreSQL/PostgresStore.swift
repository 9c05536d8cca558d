import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// The shared store: PostgreSQL through postgres-nio's connection pool, for replicas that
/// serve the same tenants (`--database postgres://…`).
///
/// Every change is one transaction with its audit entry, as in ``SQLiteStore``. A database
/// out of reach answers ``StoreError/unavailable(_:)`` within ``deadline`` instead of holding
/// the request; the pool reconnects by itself once the database is back.
struct PostgresStore: MetadataStore, Service {
    let client: PostgresClient
    private let logger: Logger
    /// The longest a call waits for the database before it answers `unavailable`.
    let deadline: Duration
    /// Where the database is (as `--database` takes it, without the password).
    let url: String

    init(_ url: DatabaseURL, logger: Logger, deadline: Duration = .seconds(5)) {
        var options = PostgresClient.Configuration.Options()
        options.maximumConnections = 16
        options.connectTimeout = .seconds(3)
        let configuration: PostgresClient.Configuration = if let socket = url.socketPath {
            .init(unixSocketPath: socket, username: url.user, password: url.password, database: url.database)
        } else {
            .init(host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: .disable)
        }
        var withOptions = configuration
        withOptions.options = options
        client = PostgresClient(configuration: withOptions, backgroundLogger: logger)
        (self.logger, self.deadline, self.url) = (logger, deadline, url.description)
    }

    /// Runs the connection pool until the service group stops.
    func run() async throws { await client.run() }

    /// Waits for the database (retrying with backoff up to `patience`), then applies the migrations.
    func prepare(patience: Duration) async throws {
        let clock = ContinuousClock(), giveUp = clock.now.advanced(by: patience)
        var wait = Duration.milliseconds(250), attempt = 1
        while true {
            do {
                // Migrating may take longer than a request may wait: bounded by the patience instead.
                try await within(max(deadline, giveUp - clock.now)) { [client, logger] in try await PostgresSchema.migrate(client, logger: logger) }
                return
            } catch {
                guard clock.now.advanced(by: wait) < giveUp else {
                    throw StoreError.unavailable("the database could not be reached in \(patience) (\(attempt) attempts): \(Self.describe(error))")
                }
                logger.warning("the database cannot be reached yet; trying again", metadata: ["attempt": "\(attempt)", "in": "\(wait)", "error": "\(Self.describe(error))"])
                try await Task.sleep(for: wait)
                wait = min(wait * 2, .seconds(5))
                attempt += 1
            }
        }
    }

    // MARK: Running queries

    /// One transaction: committed when `body` returns, rolled back when it throws.
    private func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        let (client, logger) = (self.client, self.logger)
        return try await guarded { try await client.withTransaction(logger: logger) { try await body($0, logger) } }
    }

    /// Reads that must agree with each other: one read-only transaction that sees one snapshot.
    private func snapshot<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        try await transaction { db, logger in
            try await db.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            return try await body(db, logger)
        }
    }

    /// Single statements (reads, or writes that need no transaction) on one connection.
    private func onConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        let (client, logger) = (self.client, self.logger)
        return try await guarded { try await client.withConnection { try await body($0, logger) } }
    }

    private func guarded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        do { return try await within(deadline, body) } catch { throw Self.translate(error) }
    }

    /// `body`'s answer, or `unavailable` once `limit` has passed: then `body` is cancelled and
    /// not waited for (a connection being made does not stop at once when cancelled).
    private func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let pending = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(continuation)
            let take: @Sendable () -> CheckedContinuation<T, any Error>? = { pending.withLockedValue { box in defer { box = nil }; return box } }
            let work = Task {
                // The answer first, then the continuation: `take()?.resume(returning: try await body())`
                // would take it before `body` runs, and lose it when `body` throws.
                let answer: Result<T, any Error>
                do { answer = .success(try await body()) } catch { answer = .failure(error) }
                take()?.resume(with: answer)
            }
            let timer = Task {
                guard (try? await Task.sleep(for: limit)) != nil, let waiting = take() else { return }
                work.cancel()
                waiting.resume(throwing: StoreError.unavailable("the database did not answer within \(limit); try again shortly"))
            }
            // The timer goes with the answer, not after the whole deadline.
            Task { _ = await work.result; timer.cancel() }
        }
    }

    /// PostgreSQL's errors as the rest of the server knows them.
    static func translate(_ error: any Error) -> any Error {
        // A transaction wraps what failed in it: the refusal thrown inside, or the database's own error.
        if let failed = error as? PostgresTransactionError {
            if let inside = failed.closureError { return translate(inside) }
            return (failed.beginError ?? failed.commitError).map(translate) ?? StoreError.unavailable("the transaction could not be completed; try again shortly")
        }
        guard let error = error as? PSQLError else { return error }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            switch state {
            case "23503":
                return StoreError.conflict("what this request refers to was deleted while it was handled; nothing was stored")
            case "23505":
                return StoreError.conflict("another request changed the same record at the same moment; nothing was stored, try again")
            case "40001", "40P01":
                return StoreError.unavailable("the database broke off this change to resolve a conflict with another; try again")
            case "53100":
                return StorageError("the database's disk is full", errorNumber: ENOSPC)
            case _ where state.hasPrefix("08") || state.hasPrefix("57P"):
                return StoreError.unavailable("the database is not available (\(state)); try again shortly")
            default:
                return error
            }
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return StoreError.unavailable("the database connection was lost; try again shortly")
        default:
            return error
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            return error.serverInfo?[.message] ?? "\(error.code)\(error.underlying.map { ": \($0)" } ?? "")"
        }
        if case StoreError.unavailable(let message) = error { return message }
        return "\(error)"
    }

    private static func audit(_ connection: PostgresConnection, _ logger: Logger, tenant: String?, actor: String, action: String, subject: String) async throws {
        try await connection.query("INSERT INTO audit_log (at, tenant_id, actor, action, subject) VALUES (\(Date()), \(tenant), \(actor), \(action), \(subject))", logger: logger)
    }

    // MARK: Tenants and keys

    func createTenant(_ tenant: TenantRecord, key: APIKeyRecord) async throws {
        try await transaction { db, logger in
            let inserted = try await db.rows("""
                INSERT INTO tenant (id, display_name, created_at, prediction_retention_days, log_inputs)
                VALUES (\(tenant.id), \(tenant.displayName), \(tenant.createdAt), \(tenant.predictionRetentionDays), \(tenant.logInputs))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """, logger) { try $0.decode(String.self) }
            guard !inserted.isEmpty else {
                throw StoreError.conflict("a tenant '\(tenant.id.clipped())' already exists; issue it a new key with POST /api/v1/tenants/\(tenant.id)/keys")
            }
            try await Self.insert(key, db, logger)
            try await Self.audit(db, logger, tenant: tenant.id, actor: "admin", action: "tenant.created", subject: tenant.id)
            try await Self.announce(.keys, db, logger)
        }
    }

    private static func insert(_ key: APIKeyRecord, _ db: PostgresConnection, _ logger: Logger) async throws {
        try await db.query("""
            INSERT INTO api_key (id, tenant_id, secret_digest, created_at, revoked_at)
            VALUES (\(key.id), \(key.tenantId), \(key.secretDigest), \(key.createdAt), \(key.revokedAt))
            """, logger: logger)
    }

    func tenant(_ id: String) async throws -> TenantRecord? {
        try await onConnection { db, logger in
            try await db.rows("SELECT \(unescaped: TenantRecord.columns) FROM tenant WHERE id = \(id)", logger, TenantRecord.init).first
        }
    }

    func tenantsWithKeys() async throws -> [(tenant: TenantRecord, keys: [APIKeyRecord])] {
        let (tenants, keys) = try await onConnection { db, logger in
            (try await db.rows("SELECT \(unescaped: TenantRecord.columns) FROM tenant ORDER BY created_at", logger, TenantRecord.init),
             try await db.rows("SELECT \(unescaped: APIKeyRecord.columns) FROM api_key ORDER BY created_at", logger, APIKeyRecord.init))
        }
        let byTenant = Dictionary(grouping: keys, by: \.tenantId)
        return tenants.map { ($0, byTenant[$0.id] ?? []) }
    }

    func keys(of tenant: String?) async throws -> [APIKeyRecord] {
        try await onConnection { db, logger in
            try await db.rows("SELECT \(unescaped: APIKeyRecord.columns) FROM api_key WHERE \(tenant)::text IS NULL OR tenant_id = \(tenant)", logger, APIKeyRecord.init)
        }
    }

    func addKey(_ key: APIKeyRecord) async throws {
        try await transaction { db, logger in
            guard try await db.exists("SELECT 1 FROM tenant WHERE id = \(key.tenantId) FOR SHARE", logger) else {
                throw StoreError.notFound(.tenant(key.tenantId))
            }
            try await Self.insert(key, db, logger)
            try await Self.audit(db, logger, tenant: key.tenantId, actor: "admin", action: "key.issued", subject: key.id)
            try await Self.announce(.keys, db, logger)
        }
    }

    func revokeKey(_ id: String, of tenant: String) async throws {
        try await transaction { db, logger in
            guard try await db.exists("SELECT 1 FROM api_key WHERE id = \(id) AND tenant_id = \(tenant) FOR UPDATE", logger) else {
                throw StoreError.notFound(.key(id, tenant: tenant))
            }
            let revoked = try await db.rows("UPDATE api_key SET revoked_at = \(Date()) WHERE id = \(id) AND revoked_at IS NULL RETURNING id", logger) { try $0.decode(String.self) }
            if !revoked.isEmpty {
                try await Self.audit(db, logger, tenant: tenant, actor: "admin", action: "key.revoked", subject: id)
                try await Self.announce(.keys, db, logger)
            }
        }
    }

    func deleteTenant(_ id: String) async throws -> (datasetFiles: [String], modelFiles: [String]) {
        try await transaction { db, logger in
            // Locked first: a job submitted meanwhile waits for this transaction, then finds no tenant.
            guard try await db.exists("SELECT 1 FROM tenant WHERE id = \(id) FOR UPDATE", logger) else { throw StoreError.notFound(.tenant(id)) }
            let active = try await db.count("SELECT count(*) FROM job WHERE tenant_id = \(id) AND state IN ('queued', 'running')", logger)
            guard active == 0 else { throw StoreError.activeJobs(tenant: id, active: active) }
            let datasets = try await db.rows("SELECT file_name FROM dataset WHERE tenant_id = \(id)", logger) { try $0.decode(String.self) }
            let models = try await db.rows("SELECT file_name FROM model WHERE tenant_id = \(id)", logger) { try $0.decode(String.self) }
            try await db.query("DELETE FROM tenant WHERE id = \(id)", logger: logger)
            try await Self.audit(db, logger, tenant: id, actor: "admin", action: "tenant.deleted", subject: id)
            try await Self.announce(.tenantDeleted(id), db, logger)
            return (datasets, models)
        }
    }

    func updateSettings(of tenant: String, retentionDays: Int?, logInputs: Bool?) async throws -> TenantRecord {
        try await transaction { db, logger in
            guard let record = try await db.rows("""
                UPDATE tenant SET prediction_retention_days = COALESCE(\(retentionDays), prediction_retention_days),
                                  log_inputs = COALESCE(\(logInputs), log_inputs)
                WHERE id = \(tenant) RETURNING \(unescaped: TenantRecord.columns)
                """, logger, TenantRecord.init).first else { throw StoreError.notFound(.tenant(tenant)) }
            try await Self.audit(db, logger, tenant: tenant, actor: tenant, action: "settings.changed", subject: record.settingsSummary)
            try await Self.announce(.settings(tenant: tenant), db, logger)
            return record
        }
    }

    func tenantsLoggingInputs() async throws -> [String] {
        try await onConnection { db, logger in try await db.rows("SELECT id FROM tenant WHERE log_inputs", logger) { try $0.decode(String.self) } }
    }

    func auditLog(limit: Int) async throws -> [AuditRecord] {
        try await onConnection { db, logger in
            try await db.rows("SELECT \(unescaped: AuditRecord.columns) FROM audit_log ORDER BY id DESC LIMIT \(limit)", logger, AuditRecord.init)
        }
    }

    // MARK: Datasets

    func addDataset(_ record: DatasetRecord) async throws {
        try await transaction { db, logger in
            try await db.query("""
                INSERT INTO dataset (\(unescaped: DatasetRecord.columns))
                VALUES (\(record.id), \(record.tenantId), \(record.name), \(record.fileName), \(record.byteCount), \(record.rowCount),
                        \(record.columnCount), \(record.sha256), \(record.profile), \(record.createdAt))
                """, logger: logger)
            try await Self.audit(db, logger, tenant: record.tenantId, actor: record.tenantId, action: "dataset.uploaded", subject: record.id)
        }
    }

    func datasets(of tenant: String) async throws -> [DatasetRecord] {
        try await onConnection { db, logger in
            try await db.rows("SELECT \(unescaped: DatasetRecord.columns) FROM dataset WHERE tenant_id = \(tenant) ORDER BY created_at DESC", logger, DatasetRecord.init)
        }
    }

    func dataset(_ id: String, of tenant: String?) async throws -> DatasetRecord? {
        try await onConnection { db, logger in
            try await db.rows("SELECT \(unescaped: DatasetRecord.columns) FROM dataset WHERE id = \(id) AND (\(tenant)::text IS NULL OR tenant_id = \(tenant))",
                              logger, DatasetRecord.init).first
        }
    }

    func deleteDataset(_ id: String, of tenant: String) async throws {
        try await transaction { db, logger in
            let deleted = try await db.rows("DELETE FROM dataset WHERE id = \(id) AND tenant_id = \(tenant) RETURNING id", logger) { try $0.decode(String.self) }
            guard !deleted.isEmpty else { throw StoreError.notFound(.dataset(id)) }
            try await Self.audit(db, logger, tenant: tenant, actor: tenant, action: "dataset.deleted", subject: id)
        }
    }

    func recordedFileNames() async throws -> (datasets: Set<String>, models: Set<String>) {
        try await onConnection { db, logger in
            (Set(try await db.rows("SELECT file_name FROM dataset", logger) { try $0.decode(String.self) }),
             Set(try await db.rows("SELECT file_name FROM model", logger) { try $0.decode(String.self) }))
        }
    }

    // MARK: Jobs

    func submitJob(_ job: JobRecord, activeLimit: Int) async throws {
        try await transaction { db, logger in
            // The tenant's row is the lock that makes the count and the insert one step.
            guard try await db.exists("SELECT 1 FROM tenant WHERE id = \(job.tenantId) FOR UPDATE", logger) else {
                throw StoreError.notFound(.tenant(job.tenantId))
            }
            let active = try await db.count("SELECT count(*) FROM job WHERE tenant_id = \(job.tenantId) AND state IN ('queued', 'running')", logger)
            guard active < activeLimit else { throw StoreError.jobLimit(active: active, limit: activeLimit) }
            try await Self.insert(job, db, logger)
            try await Self.audit(db, logger, tenant: job.tenantId, actor: job.tenantId, action: "job.created", subject: job.id)
        }
    }

    private static func insert(_ job: JobRecord, _ db: PostgresConnection, _ logger: Logger) async throws {
        try await db.query("""
            INSERT INTO job (\(unescaped: JobRecord.columns))
            VALUES (\(job.id), \(job.tenantId), \(job.datasetId), \(job.target), \(job.task?.rawValue), \(job.algorithmText), \(job.folds), \(job.seed),
                    \(job.split?.rawValue), \(job.timeColumn), \(job.groupColumn), \(job.gap), \(job.coverage), \(job.timeBudgetSeconds),
                    \(job.modelName), \(job.promote), \(job.modelVersion), \(job.state.rawValue), \(job.progress), \(job.message),
                    \(job.leaderboard), \(job.error), \(job.createdAt), \(job.startedAt), \(job.finishedAt))
            """, logger: logger)
    }

    /// Writes what a job's state change changes.
    private static func update(_ job: JobRecord, _ db: PostgresConnection, _ logger: Logger) async throws {
        try await db.query("""
            UPDATE job SET state = \(job.state.rawValue), progress = \(job.progress), message = \(job.message), leaderboard = \(job.leaderboard),
                           error = \(job.error), model_version = \(job.modelVersion), started_at = \(job.startedAt), finished_at = \(job.finishedAt)
            WHERE id = \(job.id)
            """, logger: logger)
    }

    private static func lockedJob(_ id: String, _ db: PostgresConnection, _ logger: Logger) async throws -> JobRecord? {
        try await db.rows("SELECT \(unescaped: JobRecord.columns) FROM job WHERE id = \(id) FOR UPDATE", logger, JobRecord.init).first
    }

    func job(_ id: String, of tenant: String?) async throws -> JobRecord? {
        try await onConnection { db, logger in
            try await db.rows("SELECT \(unescaped: JobRecord.columns) FROM job WHERE id = \(id) AND (\(tenant)::text IS NULL OR tenant_id = \(tenant))",
                              logger, JobRecord.init).first
        }
    }

    func jobs(of tenant: String) async throws -> [JobRecord] {
        try await onConnection { db, logger in
            try await db.rows("SELECT \(unescaped: JobRecord.columns) FROM job WHERE tenant_id = \(tenant) ORDER BY created_at DESC", logger, JobRecord.init)
        }
    }

    func cancelJob(_ id: String, of tenant: String) async throws -> JobRecord {
        try await transaction { db, logger in
            guard var job = try await Self.lockedJob(id, db, logger), job.tenantId == tenant else { throw StoreError.notFound(.job(id)) }
            try job.cancel()
            try await Self.update(job, db, logger)
            // A running job is stopped by whichever replica runs it, when it renews its lease.
            if job.state == .running { try await db.query("UPDATE job SET cancel_requested = TRUE WHERE id = \(id)", logger: logger) }
            try await Self.audit(db, logger, tenant: tenant, actor: tenant, action: "job.cancelled", subject: id)
            return job
        }
    }

    /// Other replicas may be running jobs: only those whose lease ended are interrupted.
    func recoverJobs() async throws -> Int {
        try await expireLeases().count
    }

    func claimJob(owner: String, leaseSeconds: Double) async throws -> JobRecord? {
        try await transaction { db, logger in
            // SKIP LOCKED: replicas claiming at once each take a different job, none waits for another.
            guard var job = try await db.rows("""
                SELECT \(unescaped: JobRecord.columns) FROM job WHERE state = 'queued' ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED
                """, logger, JobRecord.init).first else { return nil }
            job.start()
            try await Self.update(job, db, logger)
            try await db.query("""
                UPDATE job SET lease_owner = \(owner), lease_expires_at = now() + make_interval(secs => \(leaseSeconds)), cancel_requested = FALSE
                WHERE id = \(job.id)
                """, logger: logger)
            return job
        }
    }

    func renewLease(of id: String, owner: String, leaseSeconds: Double) async throws -> JobLease {
        try await onConnection { db, logger in
            let renewed = try await db.rows("""
                UPDATE job SET lease_expires_at = now() + make_interval(secs => \(leaseSeconds))
                WHERE id = \(id) AND state = 'running' AND lease_owner = \(owner) RETURNING cancel_requested
                """, logger) { try $0.decode(Bool.self) }
            return renewed.first.map { .held(cancelRequested: $0) } ?? .lost
        }
    }

    func expireLeases() async throws -> [String] {
        try await transaction { db, logger in
            var ended = try await db.rows("""
                SELECT \(unescaped: JobRecord.columns) FROM job WHERE state = 'running' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED
                """, logger, JobRecord.init)
            for index in ended.indices {
                ended[index].markLeaseEnded()
                try await Self.update(ended[index], db, logger)
                try await Self.audit(db, logger, tenant: ended[index].tenantId, actor: "server", action: "job.interrupted", subject: ended[index].id)
            }
            return ended.map(\.id)
        }
    }

    func queuedJobCount() async throws -> Int {
        try await onConnection { db, logger in try await db.count("SELECT count(*) FROM job WHERE state = 'queued'", logger) }
    }

    func recordProgress(of id: String, fraction: Double, message: String, leaderboard: Data?) async throws {
        try await onConnection { db, logger in
            try await db.query("UPDATE job SET progress = \(fraction), message = \(message), leaderboard = \(leaderboard) WHERE id = \(id) AND state = 'running'",
                               logger: logger)
        }
    }

    func finishJob(_ id: String, _ outcome: JobOutcome, owner: String) async throws -> JobRecord {
        try await transaction { db, logger in
            guard var job = try await Self.lockedJob(id, db, logger) else { throw StoreError.notFound(.job(id)) }
            let held = try await db.exists("SELECT 1 FROM job WHERE id = \(id) AND state = 'running' AND lease_owner = \(owner)", logger)
            guard held else { return job }
            job.finish(outcome)
            try await Self.update(job, db, logger)
            try await db.query("UPDATE job SET lease_owner = NULL, lease_expires_at = NULL WHERE id = \(id)", logger: logger)
            try await Self.audit(db, logger, tenant: job.tenantId, actor: "job \(id)", action: "job.\(outcome.state.rawValue)", subject: id)
            return job
        }
    }

    func modelNamesInUse(by tenant: String) async throws -> Set<String> {
        try await onConnection { db, logger in
            Set(try await db.rows("""
                SELECT model_name FROM job WHERE tenant_id = \(tenant) AND state IN ('queued', 'running')
                UNION SELECT name FROM model_series WHERE tenant_id = \(tenant) AND serving_version > 0
                """, logger) { try $0.decode(String.self) })
        }
    }

    // MARK: Replicas

    var isShared: Bool { true }

    func key(_ id: String) async throws -> APIKeyRecord? {
        try await onConnection { db, logger in
            try await db.rows("SELECT \(unescaped: APIKeyRecord.columns) FROM api_key WHERE id = \(id)", logger, APIKeyRecord.init).first
        }
    }

    func checkAdminKey(digest: Data) async throws {
        try await transaction { db, logger in
            try await db.query("INSERT INTO admin_key (id, digest, set_at) VALUES (1, \(digest), now()) ON CONFLICT (id) DO NOTHING", logger: logger)
            let stored = try await db.rows("SELECT digest FROM admin_key WHERE id = 1", logger) { try $0.decode(Data.self) }
            guard stored.first == digest else {
                throw StoreError.conflict("this server's admin key is not the one the other replicas of this database use (recorded at its first start); give every replica the same TESTBED_ADMIN_KEY. To change it for all, stop every replica, run DELETE FROM admin_key in the database, and start them with the new key")
            }
        }
    }

    func announce(_ change: StoreChange) async throws {
        try await transaction { db, logger in try await Self.announce(change, db, logger) }
    }

    /// The advisory lock that orders the change feed's writers.
    static let changeLock: Int64 = 0x7465_7374_6366_6564

    /// The channel that wakes replicas' change feeds.
    static let changeChannel = "testbed_changes"

    /// Records a change in the feed other replicas read, in the caller's transaction, and wakes them (at commit).
    private static func announce(_ change: StoreChange, _ db: PostgresConnection, _ logger: Logger) async throws {
        let (kind, tenant, name) = change.stored
        // One announcing transaction at a time until it commits: ids then become visible in the
        // order they were given, so a reader past id n never misses a later commit below n.
        try await db.query("SELECT pg_advisory_xact_lock(\(changeLock))", logger: logger)
        try await db.query("INSERT INTO change_log (kind, tenant_id, name) VALUES (\(kind), \(tenant), \(name))", logger: logger)
        try await db.query("SELECT pg_notify(\(changeChannel), '')", logger: logger)
    }

    func watchChanges(_ apply: @escaping @Sendable ([StoreChange]) async -> Bool) async throws {
        let doorbell = Doorbell()
        let start = try await onConnection { db, logger in try await db.count("SELECT COALESCE(max(id), 0) FROM change_log", logger) }
        // What changed before `start` (while this server loaded what it holds, or while the feed
        // was down) is not in the feed read below: everything is read again once.
        while await !apply([.everything]) {
            guard !Task.isCancelled else { return }
            try await Task.sleep(for: .seconds(1))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            // NOTIFY rings at once; the poll below also runs every second without it (a lost
            // listening connection, or a notification sent while it reconnected).
            group.addTask { [client, logger] in
                while !Task.isCancelled {
                    do {
                        try await client.withConnection { connection in
                            for try await _ in try await connection.listen(Self.changeChannel) { await doorbell.ring() }
                        }
                    } catch {
                        try await Task.sleep(for: .seconds(1))
                    }
                    logger.debug("change feed listener reconnecting")
                }
            }
            group.addTask {
                var last = start
                while !Task.isCancelled {
                    do {
                        let after = last
                        let rows = try await onConnection { db, logger in
                            try await db.rows("SELECT id, kind, tenant_id, name FROM change_log WHERE id > \(after) ORDER BY id LIMIT 1000", logger) {
                                try $0.decode((Int, String, String?, String?).self)
                            }
                        }
                        let changes = rows.compactMap { StoreChange(kind: $0.1, tenant: $0.2, name: $0.3) }
                        // Moved past only once applied: a failed reload is tried again next time.
                        let applied = changes.isEmpty ? true : await apply(changes)
                        if applied, let newest = rows.last?.0 { last = newest }
                        if rows.count == 1000 { continue }
                    } catch {
                        logger.warning("the change feed cannot be read; retrying", metadata: ["error": "\(Self.describe(error))"])
                    }
                    await doorbell.wait(upTo: .seconds(1))
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    // MARK: Models

    /// The series of a name with versions (a deleted model's series stays, serving version 0,
    /// so that its numbers are never given again); locked when changes follow.
    private static func series(_ name: String, _ tenant: String, _ db: PostgresConnection, _ logger: Logger, locking: Bool) async throws -> ModelSeriesRecord? {
        try await db.rows("""
            SELECT \(unescaped: ModelSeriesRecord.columns) FROM model_series
            WHERE tenant_id = \(tenant) AND name = \(name) AND serving_version > 0 \(unescaped: locking ? "FOR UPDATE" : "")
            """, logger, ModelSeriesRecord.init).first
    }

    private static func versionRecord(_ name: String, _ version: Int, _ tenant: String, _ db: PostgresConnection, _ logger: Logger) async throws -> ModelRecord? {
        try await db.rows("SELECT \(unescaped: ModelRecord.columns) FROM model WHERE tenant_id = \(tenant) AND name = \(name) AND version = \(version)",
                          logger, ModelRecord.init).first
    }

    func modelVersion(_ name: String, version: Int?, of tenant: String) async throws -> (record: ModelRecord?, nameExists: Bool) {
        try await snapshot { db, logger in
            guard let series = try await Self.series(name, tenant, db, logger, locking: false) else { return (nil, false) }
            return (try await Self.versionRecord(name, version ?? series.servingVersion, tenant, db, logger), true)
        }
    }

    func modelNames(of tenant: String) async throws -> [String] {
        try await onConnection { db, logger in
            try await db.rows("SELECT name FROM model WHERE tenant_id = \(tenant) ORDER BY created_at DESC", logger) { try $0.decode(String.self) }
        }
    }

    func versions(of name: String, tenant: String) async throws -> (serving: Int, records: [ModelRecord])? {
        try await snapshot { db, logger in
            guard let series = try await Self.series(name, tenant, db, logger, locking: false) else { return nil }
            let records = try await db.rows("SELECT \(unescaped: ModelRecord.columns) FROM model WHERE tenant_id = \(tenant) AND name = \(name) ORDER BY version",
                                            logger, ModelRecord.init)
            return (series.servingVersion, records)
        }
    }

    func registerModel(_ draft: ModelDraft) async throws -> (record: ModelRecord, serves: Bool) {
        try await transaction { db, logger in
            // Made if missing, then locked: two registrations of one name take turns.
            try await db.query("""
                INSERT INTO model_series (tenant_id, name, serving_version, next_version) VALUES (\(draft.tenant), \(draft.name), 0, 1)
                ON CONFLICT (tenant_id, name) DO NOTHING
                """, logger: logger)
            guard var series = try await db.rows("""
                SELECT \(unescaped: ModelSeriesRecord.columns) FROM model_series WHERE tenant_id = \(draft.tenant) AND name = \(draft.name) FOR UPDATE
                """, logger, ModelSeriesRecord.init).first else { throw StoreError.notFound(.tenant(draft.tenant)) }
            let (record, serves) = series.register(draft)
            try await db.query("""
                UPDATE model_series SET serving_version = \(series.servingVersion), next_version = \(series.nextVersion)
                WHERE tenant_id = \(draft.tenant) AND name = \(draft.name)
                """, logger: logger)
            try await db.query("""
                INSERT INTO model (\(unescaped: ModelRecord.columns))
                VALUES (\(record.id), \(record.tenantId), \(record.name), \(record.version), \(record.fileName), \(record.datasetId),
                        \(record.jobId), \(record.comparison), \(record.createdAt))
                """, logger: logger)
            try await Self.audit(db, logger, tenant: draft.tenant, actor: draft.actor, action: "model.registered", subject: record.registrationSummary(serves: serves))
            try await Self.announce(.model(tenant: draft.tenant, name: draft.name), db, logger)
            return (record, serves)
        }
    }

    func promote(_ name: String, version: Int, of tenant: String) async throws -> Int {
        try await transaction { db, logger in
            guard let series = try await Self.series(name, tenant, db, logger, locking: true) else { throw StoreError.notFound(.model(name)) }
            guard try await Self.versionRecord(name, version, tenant, db, logger) != nil else { throw StoreError.notFound(.modelVersion(name, version: version)) }
            try await db.query("UPDATE model_series SET serving_version = \(version) WHERE tenant_id = \(tenant) AND name = \(name)", logger: logger)
            try await Self.audit(db, logger, tenant: tenant, actor: tenant, action: "model.promoted", subject: "\(name) version \(version) (was \(series.servingVersion))")
            try await Self.announce(.model(tenant: tenant, name: name), db, logger)
            return series.servingVersion
        }
    }

    func deleteVersion(_ name: String, version: Int, of tenant: String) async throws -> ModelRecord {
        try await transaction { db, logger in
            guard let series = try await Self.series(name, tenant, db, logger, locking: true) else { throw StoreError.notFound(.model(name)) }
            guard let record = try await Self.versionRecord(name, version, tenant, db, logger) else { throw StoreError.notFound(.modelVersion(name, version: version)) }
            guard series.servingVersion != version else { throw StoreError.servingVersion(name, version) }
            try await db.query("DELETE FROM model WHERE id = \(record.id)", logger: logger)
            try await Self.eraseUse(of: name, version: version, tenant: tenant, db, logger)
            try await Self.audit(db, logger, tenant: tenant, actor: tenant, action: "model.version.deleted", subject: "\(name) version \(version)")
            try await Self.announce(.model(tenant: tenant, name: name), db, logger)
            return record
        }
    }

    func deleteModel(_ name: String, of tenant: String) async throws -> [ModelRecord] {
        try await transaction { db, logger in
            guard try await Self.series(name, tenant, db, logger, locking: true) != nil else { throw StoreError.notFound(.model(name)) }
            let records = try await db.rows("DELETE FROM model WHERE tenant_id = \(tenant) AND name = \(name) RETURNING \(unescaped: ModelRecord.columns)",
                                            logger, ModelRecord.init)
            try await db.query("UPDATE model_series SET serving_version = 0 WHERE tenant_id = \(tenant) AND name = \(name)", logger: logger)
            try await Self.eraseUse(of: name, version: nil, tenant: tenant, db, logger)
            try await Self.audit(db, logger, tenant: tenant, actor: tenant, action: "model.deleted", subject: name)
            try await Self.announce(.model(tenant: tenant, name: name), db, logger)
            return records
        }
    }

    /// Erases the monitoring windows, logged predictions and outcomes of a model (one version or all).
    private static func eraseUse(of name: String, version: Int?, tenant: String, _ db: PostgresConnection, _ logger: Logger) async throws {
        for table in ["monitoring_window", "prediction_batch", "outcome"] {
            try await db.query("""
                DELETE FROM \(unescaped: table) WHERE tenant_id = \(tenant) AND model_name = \(name) AND (\(version)::bigint IS NULL OR version = \(version))
                """, logger: logger)
        }
    }

    // MARK: Monitoring and feedback

    func monitoringWindows(of name: String, version: Int, tenant: String, limit: Int) async throws -> [MonitoringWindowRecord] {
        try await onConnection { db, logger in
            try await db.rows("""
                SELECT \(unescaped: MonitoringWindowRecord.columns) FROM monitoring_window
                WHERE tenant_id = \(tenant) AND model_name = \(name) AND version = \(version) ORDER BY started_at DESC LIMIT \(limit)
                """, logger, MonitoringWindowRecord.init)
        }
    }

    func outcomes(of name: String, version: Int, tenant: String, limit: Int) async throws -> [OutcomeRecord] {
        try await onConnection { db, logger in
            try await db.rows("""
                SELECT \(unescaped: OutcomeRecord.columns) FROM outcome
                WHERE tenant_id = \(tenant) AND model_name = \(name) AND version = \(version) ORDER BY predicted_at DESC LIMIT \(limit)
                """, logger, OutcomeRecord.init)
        }
    }

    func saveOutcomes(_ records: [OutcomeRecord], of name: String, tenant: String, checkVersions: Bool) async throws -> (replaced: Int, versions: [Int]) {
        try await transaction { db, logger in
            let versions = Set(records.map(\.version)).sorted()
            // Shared with other feedback, exclusive with deleting a version: the check holds until commit.
            try await db.query("SELECT 1 FROM model_series WHERE tenant_id = \(tenant) AND name = \(name) FOR SHARE", logger: logger)
            if checkVersions {
                for version in versions where try await Self.versionRecord(name, version, tenant, db, logger) == nil {
                    throw StoreError.conflict("version \(version) of '\(name.clipped())' was deleted meanwhile; its predictions and outcomes went with it")
                }
            }
            var replaced = 0
            for record in records {
                // xmax is 0 for a row inserted by this statement, not for one it updated.
                let inserted = try await db.rows("""
                    INSERT INTO outcome (\(unescaped: OutcomeRecord.columns))
                    VALUES (\(record.tenantId), \(record.predictionId), \(record.modelName), \(record.version), \(record.predictedAt),
                            \(record.receivedAt), \(record.predicted), \(record.actual))
                    ON CONFLICT (tenant_id, prediction_id) DO UPDATE SET model_name = EXCLUDED.model_name, version = EXCLUDED.version,
                        predicted_at = EXCLUDED.predicted_at, received_at = EXCLUDED.received_at, predicted = EXCLUDED.predicted, actual = EXCLUDED.actual
                    RETURNING (xmax = 0)
                    """, logger) { try $0.decode(Bool.self) }
                if inserted.first == false { replaced += 1 }
            }
            try await Self.audit(db, logger, tenant: tenant, actor: tenant, action: "model.feedback", subject: "\(name): \(records.count) outcomes")
            return (replaced, versions)
        }
    }

    func loggedPredictions(of name: String, tenant: String, ranges: [SequenceRange], ids: [String]) async throws
        -> (batches: [PredictionBatchRecord], outcomes: [OutcomeRecord]) {
        try await onConnection { db, logger in
            var batches: [Int64: PredictionBatchRecord] = [:]
            for range in ranges {
                for batch in try await db.rows("""
                    SELECT \(unescaped: PredictionBatchRecord.columns) FROM prediction_batch
                    WHERE tenant_id = \(tenant) AND model_name = \(name) AND prefix = \(range.prefix) AND first_seq <= \(range.high) AND last_seq >= \(range.low)
                    """, logger, PredictionBatchRecord.init) {
                    batches[batch.id ?? 0] = batch
                }
            }
            let outcomes = try await db.rows("""
                SELECT \(unescaped: OutcomeRecord.columns) FROM outcome WHERE tenant_id = \(tenant) AND model_name = \(name) AND prediction_id = ANY(\(ids))
                """, logger, OutcomeRecord.init)
            return (Array(batches.values), outcomes)
        }
    }

    func saveMonitoring(_ writes: [MonitoringWrite]) async throws -> Set<Int> {
        try await transaction { db, logger in
            var gone = Set<Int>()
            for (index, write) in writes.enumerated() {
                let tenantExists = try await db.exists("SELECT 1 FROM tenant WHERE id = \(write.tenant) FOR SHARE", logger)
                let versionExists = if let id = write.modelRecordID { try await db.exists("SELECT 1 FROM model WHERE id = \(id) FOR SHARE", logger) } else { true }
                guard tenantExists && versionExists else { gone.insert(index); continue }
                for window in write.windows {
                    try await db.query("""
                        INSERT INTO monitoring_window (tenant_id, model_name, version, started_at, ended_at, rows, counts)
                        VALUES (\(window.tenantId), \(window.modelName), \(window.version), \(window.startedAt), \(window.endedAt), \(window.rows), \(window.counts))
                        """, logger: logger)
                }
                for batch in write.batches {
                    try await db.query("""
                        INSERT INTO prediction_batch (tenant_id, model_name, version, prefix, first_seq, last_seq, created_at, payload)
                        VALUES (\(batch.tenantId), \(batch.modelName), \(batch.version), \(batch.prefix), \(batch.firstSeq), \(batch.lastSeq),
                                \(batch.createdAt), \(batch.payload))
                        """, logger: logger)
                }
            }
            return gone
        }
    }

    func prune(windowsBefore: Date, now: Date) async throws -> Int {
        try await transaction { db, logger in
            var erased = try await db.count("WITH gone AS (DELETE FROM monitoring_window WHERE ended_at < \(windowsBefore) RETURNING 1) SELECT count(*) FROM gone", logger)
            // Replicas read the change feed within a second; a day keeps any that was slow.
            try await db.query("DELETE FROM change_log WHERE at < now() - interval '1 day'", logger: logger)
            for tenant in try await db.rows("SELECT \(unescaped: TenantRecord.columns) FROM tenant", logger, TenantRecord.init) {
                let before = tenant.predictionsKeptSince(now)
                erased += try await db.count("""
                    WITH gone AS (DELETE FROM prediction_batch WHERE tenant_id = \(tenant.id) AND created_at < \(before) RETURNING 1) SELECT count(*) FROM gone
                    """, logger)
                erased += try await db.count("""
                    WITH gone AS (DELETE FROM outcome WHERE tenant_id = \(tenant.id) AND predicted_at < \(before) RETURNING 1) SELECT count(*) FROM gone
                    """, logger)
            }
            return erased
        }
    }
}

extension PostgresConnection {
    /// Every row of `query`, made into values by `make`.
    func rows<Row>(_ query: PostgresQuery, _ logger: Logger, _ make: (PostgresRow) throws -> Row) async throws -> [Row] {
        var rows: [Row] = []
        for try await row in try await self.query(query, logger: logger) { rows.append(try make(row)) }
        return rows
    }

    func exists(_ query: PostgresQuery, _ logger: Logger) async throws -> Bool {
        try await !rows(query, logger) { _ in () }.isEmpty
    }

    /// The number a `SELECT count(*)` answers.
    func count(_ query: PostgresQuery, _ logger: Logger) async throws -> Int {
        try await rows(query, logger) { try $0.decode(Int.self) }.first ?? 0
    }
}

extension StoreChange {
    /// The change as the feed stores it: a kind, and the tenant and name it concerns.
    var stored: (kind: String, tenant: String?, name: String?) {
        switch self {
        case .everything: ("everything", nil, nil)
        case .keys: ("keys", nil, nil)
        case .tenantDeleted(let tenant): ("tenant.deleted", tenant, nil)
        case .settings(let tenant): ("settings", tenant, nil)
        case .model(let tenant, let name): ("model", tenant, name)
        case .modelUnloaded(let tenant, let name): ("model.unloaded", tenant, name)
        case .modelLoaded(let tenant, let name): ("model.loaded", tenant, name)
        }
    }

    init?(kind: String, tenant: String?, name: String?) {
        switch (kind, tenant, name) {
        case ("everything", _, _): self = .everything
        case ("keys", _, _): self = .keys
        case ("tenant.deleted", let tenant?, _): self = .tenantDeleted(tenant)
        case ("settings", let tenant?, _): self = .settings(tenant: tenant)
        case ("model", let tenant?, let name?): self = .model(tenant: tenant, name: name)
        case ("model.unloaded", let tenant?, let name?): self = .modelUnloaded(tenant: tenant, name: name)
        case ("model.loaded", let tenant?, let name?): self = .modelLoaded(tenant: tenant, name: name)
        default: return nil
        }
    }
}

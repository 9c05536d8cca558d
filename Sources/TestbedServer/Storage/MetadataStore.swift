import Foundation

/// Tenants, keys, datasets, jobs, models, monitoring records and the audit log: what the server
/// keeps besides files. Two implementations answer the same calls: ``SQLiteStore`` (embedded,
/// the default) and ``PostgresStore`` (shared by replicas).
///
/// Every change is one transaction with its audit entry: written together or not at all.
/// Refusals are ``StoreError``s, answered to clients in one place (``APIError``).
protocol MetadataStore: Sendable {
    // MARK: Tenants and keys

    /// Refused with `conflict` when the id is taken.
    func createTenant(_ tenant: TenantRecord, key: APIKeyRecord) async throws
    func tenant(_ id: String) async throws -> TenantRecord?
    /// Every tenant, oldest first, with its keys, oldest first.
    func tenantsWithKeys() async throws -> [(tenant: TenantRecord, keys: [APIKeyRecord])]
    /// Every key of every tenant (`nil`) or of one.
    func keys(of tenant: String?) async throws -> [APIKeyRecord]
    func addKey(_ key: APIKeyRecord) async throws
    /// Revokes a key once (revoking it again changes nothing).
    func revokeKey(_ id: String, of tenant: String) async throws
    /// Deletes a tenant and all it owns; refused with `conflict` while a job of it is queued
    /// or running. Returns the files its records named, for the caller to remove.
    func deleteTenant(_ id: String) async throws -> (datasetFiles: [String], modelFiles: [String])
    func updateSettings(of tenant: String, retentionDays: Int?, logInputs: Bool?) async throws -> TenantRecord
    func tenantsLoggingInputs() async throws -> [String]
    /// The latest entries, newest first.
    func auditLog(limit: Int) async throws -> [AuditRecord]

    // MARK: Datasets

    func addDataset(_ record: DatasetRecord) async throws
    /// Newest first.
    func datasets(of tenant: String) async throws -> [DatasetRecord]
    /// A dataset by id, only if `tenant` owns it (any owner for `nil`).
    func dataset(_ id: String, of tenant: String?) async throws -> DatasetRecord?
    func deleteDataset(_ id: String, of tenant: String) async throws
    /// The file names that dataset and model records point to.
    func recordedFileNames() async throws -> (datasets: Set<String>, models: Set<String>)

    // MARK: Jobs

    /// Stores a queued job; `limitReached` when its tenant has `activeLimit` queued or running.
    func submitJob(_ job: JobRecord, activeLimit: Int) async throws
    func job(_ id: String, of tenant: String?) async throws -> JobRecord?
    /// Newest first.
    func jobs(of tenant: String) async throws -> [JobRecord]
    /// A queued job becomes `cancelled`; a running one keeps running with a message saying it
    /// is being stopped (its runner stops it). `conflict` once it has finished.
    func cancelJob(_ id: String, of tenant: String) async throws -> JobRecord
    /// At start: running jobs that no process runs any more become `interrupted` (all of them
    /// for an embedded store, whose one server just started; those whose lease ended for a
    /// shared one); returns how many.
    func recoverJobs() async throws -> Int
    /// The oldest queued job, now running for `owner` with a lease of `leaseSeconds`; `nil` when none waits.
    func claimJob(owner: String, leaseSeconds: Double) async throws -> JobRecord?
    /// Extends `owner`'s lease on a running job, and says whether a client asked to cancel it.
    func renewLease(of id: String, owner: String, leaseSeconds: Double) async throws -> JobLease
    /// Running jobs whose lease ended (their process died) become `interrupted`; returns their ids.
    func expireLeases() async throws -> [String]
    func queuedJobCount() async throws -> Int
    /// Progress of a running job (nothing once it has finished).
    func recordProgress(of id: String, fraction: Double, message: String, leaderboard: Data?) async throws
    /// Records how `owner`'s job ended; a job no longer `owner`'s (its lease ended and it was
    /// marked interrupted) is left as it is, and returned.
    func finishJob(_ id: String, _ outcome: JobOutcome, owner: String) async throws -> JobRecord
    /// Names a new model of `tenant` cannot take: its models' and those its queued or running jobs will register.
    func modelNamesInUse(by tenant: String) async throws -> Set<String>

    // MARK: Replicas

    /// Whether other server processes share this store: replicas behind a load balancer.
    var isShared: Bool { get }
    /// One key by its public id (a replica asks when a key it does not hold is used).
    func key(_ id: String) async throws -> APIKeyRecord?
    /// Records the admin key's digest at the first start and refuses a different one later:
    /// every replica must accept the same admin key.
    func checkAdminKey(digest: Data) async throws
    /// Tells the other replicas of a change they hold in memory but the database does not
    /// (a model unloaded or loaded through the repository extension).
    func announce(_ change: StoreChange) async throws
    /// Calls `apply` with what was changed through any replica, soon after it happened (within
    /// a second), until cancelled; returns at once for a store no other process shares. The
    /// first call is ``StoreChange/everything`` (what changed before watching began); changes
    /// that `apply` could not apply (it answers `false`) are given again.
    func watchChanges(_ apply: @escaping @Sendable ([StoreChange]) async -> Bool) async throws

    // MARK: Models

    /// The record of `version` of `name` (the serving one for `nil`), and whether the name has versions at all.
    func modelVersion(_ name: String, version: Int?, of tenant: String) async throws -> (record: ModelRecord?, nameExists: Bool)
    /// Names of the tenant's models, newest version first (a name repeats for each version).
    func modelNames(of tenant: String) async throws -> [String]
    /// The serving version and every version, oldest first; `nil` for a name without versions.
    func versions(of name: String, tenant: String) async throws -> (serving: Int, records: [ModelRecord])?
    /// Records `draft` as the next version of its name; it serves when it is the first or `promote` says so.
    func registerModel(_ draft: ModelDraft) async throws -> (record: ModelRecord, serves: Bool)
    /// Returns the version that served before.
    func promote(_ name: String, version: Int, of tenant: String) async throws -> Int
    /// Deletes a version that does not serve, with what was recorded of its use.
    func deleteVersion(_ name: String, version: Int, of tenant: String) async throws -> ModelRecord
    /// Deletes every version of a name, with what was recorded of their use; its numbers are not given again.
    func deleteModel(_ name: String, of tenant: String) async throws -> [ModelRecord]

    // MARK: Monitoring and feedback

    /// The latest closed windows of a model version, newest first.
    func monitoringWindows(of name: String, version: Int, tenant: String, limit: Int) async throws -> [MonitoringWindowRecord]
    /// The outcomes of a model version's predictions, latest prediction first.
    func outcomes(of name: String, version: Int, tenant: String, limit: Int) async throws -> [OutcomeRecord]
    /// Saves outcomes (replacing earlier ones of the same predictions); for a tenant's model,
    /// `conflict` when a version they name was deleted meanwhile. Returns how many replaced
    /// earlier outcomes, and the versions they concern.
    func saveOutcomes(_ records: [OutcomeRecord], of name: String, tenant: String, checkVersions: Bool) async throws -> (replaced: Int, versions: [Int])
    /// Prediction batches of `name` overlapping the sequence ranges, and the outcomes of the
    /// predictions with these ids.
    func loggedPredictions(of name: String, tenant: String, ranges: [SequenceRange], ids: [String]) async throws
        -> (batches: [PredictionBatchRecord], outcomes: [OutcomeRecord])
    /// Writes closed windows and prediction batches of model versions that still exist; returns
    /// the indices of the writes whose tenant or version is gone (nothing of them is written).
    func saveMonitoring(_ writes: [MonitoringWrite]) async throws -> Set<Int>
    /// Erases windows that ended before `windowsBefore`, and predictions and outcomes older
    /// than their tenant's retention; returns how many records went.
    func prune(windowsBefore: Date, now: Date) async throws -> Int
}

/// Why the store refused or could not make a change.
enum StoreError: Error, Sendable {
    case notFound(StoredThing)
    case conflict(String)
    /// A limit on what one tenant may have at once; worth trying again after `retryAfter` seconds.
    case limitReached(String, retryAfter: Int)
    /// The database cannot be reached now.
    case unavailable(String)
}

/// What a `notFound` refers to.
enum StoredThing: Sendable, Equatable {
    case tenant(String)
    case key(String, tenant: String)
    case dataset(String)
    case job(String)
    case model(String)
    case modelVersion(String, version: Int)
}

/// What a replica may hold in memory that another one changed.
enum StoreChange: Sendable, Equatable {
    /// Anything may have changed: what is held is read again (when watching begins).
    case everything
    /// Keys were issued or revoked.
    case keys
    case tenantDeleted(String)
    /// A tenant's settings changed (whether inputs are logged).
    case settings(tenant: String)
    /// Versions of a model were registered, promoted or deleted.
    case model(tenant: String, name: String)
    case modelUnloaded(tenant: String, name: String)
    case modelLoaded(tenant: String, name: String)
}

/// A running job's lease, as its owner renews it.
enum JobLease: Sendable, Equatable {
    case held(cancelRequested: Bool)
    /// The job is no longer the owner's: its lease ended and it was marked interrupted.
    case lost
}

/// How a job ended, as its runner writes it.
struct JobOutcome: Sendable {
    var state: JobRecord.State
    var message: String
    var error: String?
    var leaderboard: Data?
    var version: Int?
}

/// A model file written and about to be recorded as the next version of `name`.
struct ModelDraft: Sendable {
    var tenant: String
    var name: String
    var fileName: String
    var datasetID: String?
    var jobID: String?
    var promote: Bool
    var comparison: Data?
}

/// Sequence numbers `low...high` of predictions logged under one id prefix.
struct SequenceRange: Sendable {
    var prefix: String
    var low: Int64
    var high: Int64
}

/// What monitoring writes for one model version: kept only while its tenant and version exist.
struct MonitoringWrite: Sendable {
    var tenant: String
    /// The version's record (`nil` for a demonstration model, which always exists).
    var modelRecordID: String?
    var windows: [MonitoringWindowRecord]
    var batches: [PredictionBatchRecord]
}

extension StoredThing {
    /// The thing in words, with where to find what exists.
    var missing: String {
        switch self {
        case .tenant(let id): "there is no tenant '\(id.clipped())'"
        case .key(let id, let tenant): "tenant '\(tenant.clipped())' has no key '\(id.clipped())'"
        case .dataset(let id): "there is no dataset '\(id.clipped())'; GET /api/v1/datasets lists yours"
        case .job(let id): "there is no job '\(id.clipped())'; GET /api/v1/jobs lists yours"
        case .model(let name): "there is no model '\(name.clipped())'; GET /api/v1/models lists the models you can use"
        case .modelVersion(let name, let version):
            "model '\(name.clipped())' has no version \(version); GET /api/v1/models/\(name.clipped())/versions lists them"
        }
    }
}

extension StoreError: CustomStringConvertible {
    var description: String {
        switch self {
        case .notFound(let thing): thing.missing
        case .conflict(let message), .limitReached(let message, _), .unavailable(let message): message
        }
    }
}

import Foundation
import InferenceCore
import Logging
import PostgresNIO
import Testing
@testable import TestbedServer

/// The store layer's contract, one suite run against both implementations: SQLite in a
/// temporary file and PostgreSQL in a database of its own per test (on the server whose URL is
/// `TESTBED_TEST_DATABASE_URL`, which scripts/test.sh starts with scripts/postgres.sh).
@Suite("metadata store")
struct StoreTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// A store of `kind` with nothing in it, and what removes it.
    static func emptyStore(_ kind: Kind) async throws -> (any MetadataStore, @Sendable () async -> Void) {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-store-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return (try SQLiteStore(path: directory + "/testbed.sqlite"), { try? FileManager.default.removeItem(atPath: directory) })
        case .postgres:
            return try await TestDatabase.make()
        }
    }

    static func tenant(_ id: String) -> (TenantRecord, APIKeyRecord) {
        (TenantRecord(id: id, displayName: id.uppercased(), createdAt: Date()), KeyRing.newKey(for: id).1)
    }

    static func job(_ id: String, tenant: String, model: String = "m", state: JobRecord.State = .queued) -> JobRecord {
        JobRecord(id: id, tenantId: tenant, datasetId: "d1", target: "y", task: .regression, algorithm: try! AlgorithmChoice(parsing: "gbdt,ridge"),
                  folds: 5, seed: 7, split: .time, timeColumn: "at", groupColumn: nil, gap: 2, coverage: 0.8, timeBudgetSeconds: 12.5,
                  modelName: model, promote: true, modelVersion: nil, state: state, progress: 0, message: "queued", leaderboard: nil,
                  error: nil, createdAt: Date(timeIntervalSince1970: 1_800_000_000 + (Double(id.dropFirst()) ?? 0)),
                  startedAt: nil, finishedAt: nil)
    }

    static func draft(_ name: String, tenant: String, promote: Bool = false) -> ModelDraft {
        ModelDraft(tenant: tenant, name: name, fileName: "\(tenant)-\(UUID()).json", datasetID: "d1", jobID: nil, promote: promote, comparison: Data([1, 2]))
    }

    @Test(arguments: Kind.allCases)
    func tenantsAndKeysAreStoredRefusedAndDeletedWithWhatTheyOwn(_ kind: Kind) async throws {
        let (store, remove) = try await Self.emptyStore(kind)
        defer { Task { await remove() } }
        let (tenant, key) = Self.tenant("sawmill")
        try await store.createTenant(tenant, key: key)
        await #expect(throws: StoreError.self) { try await store.createTenant(tenant, key: Self.tenant("sawmill").1) }
        #expect(try await store.tenant("sawmill")?.displayName == "SAWMILL")
        #expect(try await store.tenant("nobody") == nil)
        let second = KeyRing.newKey(for: "sawmill").1
        try await store.addKey(second)
        await #expect(throws: StoreError.self) { try await store.addKey(KeyRing.newKey(for: "nobody").1) }
        try await store.revokeKey(second.id, of: "sawmill")
        try await store.revokeKey(second.id, of: "sawmill")
        await #expect(throws: StoreError.self) { try await store.revokeKey(second.id, of: "other") }
        let listed = try await store.tenantsWithKeys()
        #expect(listed.map(\.tenant.id) == ["sawmill"])
        #expect(Set(listed[0].keys.map(\.id)) == [key.id, second.id])
        #expect(listed[0].keys.first { $0.id == second.id }?.revokedAt != nil)
        #expect(listed[0].keys.first { $0.id == key.id }?.secretDigest == key.secretDigest)

        let updated = try await store.updateSettings(of: "sawmill", retentionDays: 7, logInputs: true)
        #expect(updated.predictionRetentionDays == 7 && updated.logInputs)
        #expect(try await store.tenantsLoggingInputs() == ["sawmill"])

        let dataset = DatasetRecord(id: "d1", tenantId: "sawmill", name: "logs", fileName: "d1.csv", byteCount: 10, rowCount: 2, columnCount: 3,
                                    sha256: "ab", profile: Data("{}".utf8), createdAt: Date())
        try await store.addDataset(dataset)
        #expect(try await store.dataset("d1", of: "sawmill")?.profile == dataset.profile)
        #expect(try await store.dataset("d1", of: "other") == nil)
        _ = try await store.registerModel(Self.draft("m", tenant: "sawmill"))
        // A job queued: the tenant cannot go.
        try await store.submitJob(Self.job("j1", tenant: "sawmill"), activeLimit: 2)
        await #expect(throws: StoreError.self) { _ = try await store.deleteTenant("sawmill") }
        _ = try await store.cancelJob("j1", of: "sawmill")
        let files = try await store.deleteTenant("sawmill")
        #expect(files.datasetFiles == ["d1.csv"] && files.modelFiles.count == 1)
        #expect(try await store.tenant("sawmill") == nil)
        #expect(try await store.keys(of: nil).isEmpty)
        #expect(try await store.dataset("d1", of: nil) == nil)
        await #expect(throws: StoreError.self) { _ = try await store.deleteTenant("sawmill") }
        let actions = try await store.auditLog(limit: 100).map(\.action)
        #expect(actions.first == "tenant.deleted")
        #expect(Set(actions).isSuperset(of: ["tenant.created", "key.issued", "key.revoked", "settings.changed", "dataset.uploaded",
                                            "model.registered", "job.created", "job.cancelled"]))
        #expect(actions.filter { $0 == "key.revoked" }.count == 1, "revoking twice is one change")
    }

    @Test(arguments: Kind.allCases)
    func jobsKeepTheirFieldsTheLimitAndTheirStates(_ kind: Kind) async throws {
        let (store, remove) = try await Self.emptyStore(kind)
        defer { Task { await remove() } }
        let (tenant, key) = Self.tenant("mine")
        try await store.createTenant(tenant, key: key)
        let first = Self.job("j1", tenant: "mine", model: "ore-grade")
        try await store.submitJob(first, activeLimit: 2)
        try await store.submitJob(Self.job("j2", tenant: "mine"), activeLimit: 2)
        do {
            try await store.submitJob(Self.job("j3", tenant: "mine"), activeLimit: 2)
            Issue.record("a third active job was accepted")
        } catch StoreError.limitReached(_, let seconds) {
            #expect(seconds > 0)
        }
        let read = try #require(try await store.job("j1", of: "mine"))
        #expect(read.algorithm.names == first.algorithm.names && read.split == .time && read.task == .regression)
        #expect(read.timeColumn == "at" && read.gap == 2 && read.coverage == 0.8 && read.timeBudgetSeconds == 12.5 && read.promote)
        #expect(try await store.job("j1", of: "other") == nil)
        #expect(try await store.modelNamesInUse(by: "mine") == ["ore-grade", "m"])

        // Claimed oldest first, each by one owner.
        let started = try #require(try await store.claimJob(owner: "replica-a", leaseSeconds: 30))
        #expect(started.id == "j1" && started.state == .running && started.startedAt != nil)
        #expect(try await store.claimJob(owner: "replica-b", leaseSeconds: 30)?.id == "j2")
        #expect(try await store.claimJob(owner: "replica-b", leaseSeconds: 30) == nil, "a job is claimed once")
        try await store.recordProgress(of: "j1", fraction: 0.5, message: "fold 2 of 5", leaderboard: Data([9]))
        #expect(try await store.job("j1", of: nil)?.message == "fold 2 of 5")
        #expect(try await store.renewLease(of: "j1", owner: "replica-a", leaseSeconds: 30) == .held(cancelRequested: false))
        #expect(try await store.renewLease(of: "j1", owner: "replica-b", leaseSeconds: 30) == .lost)
        // A cancel through any replica reaches the owner at its next renewal.
        let stopping = try await store.cancelJob("j1", of: "mine")
        #expect(stopping.state == .running && stopping.message.hasPrefix("cancelling"))
        #expect(try await store.renewLease(of: "j1", owner: "replica-a", leaseSeconds: 30) == .held(cancelRequested: true))
        // Only the owner records how it ended.
        let ignored = try await store.finishJob("j1", JobOutcome(state: .failed, message: "x", error: nil, leaderboard: nil, version: nil), owner: "replica-b")
        #expect(ignored.state == .running)
        let finished = try await store.finishJob("j1", JobOutcome(state: .succeeded, message: "ready", error: nil, leaderboard: Data([7]), version: 3), owner: "replica-a")
        #expect(finished.state == .succeeded && finished.progress == 1 && finished.modelVersion == 3 && finished.finishedAt != nil)
        #expect(try await store.job("j1", of: nil)?.leaderboard == Data([7]))
        try await store.recordProgress(of: "j1", fraction: 0.1, message: "late", leaderboard: nil)
        #expect(try await store.job("j1", of: nil)?.message == "ready", "progress after the end changes nothing")
        await #expect(throws: StoreError.self) { _ = try await store.cancelJob("j1", of: "mine") }

        // replica-b dies with j2 running: its lease ends, any replica marks it interrupted, and
        // what replica-b might still write is ignored.
        _ = try await store.renewLease(of: "j2", owner: "replica-b", leaseSeconds: 0.2)
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await store.expireLeases() == ["j2"])
        #expect(try await store.expireLeases().isEmpty)
        let interrupted = try #require(try await store.job("j2", of: nil))
        #expect(interrupted.state == .interrupted && interrupted.finishedAt != nil)
        #expect(try await store.renewLease(of: "j2", owner: "replica-b", leaseSeconds: 30) == .lost)
        _ = try await store.finishJob("j2", JobOutcome(state: .succeeded, message: "late", error: nil, leaderboard: nil, version: 1), owner: "replica-b")
        #expect(try await store.job("j2", of: nil)?.state == .interrupted)

        try await store.submitJob(Self.job("j4", tenant: "mine"), activeLimit: 2)
        try await store.submitJob(Self.job("j5", tenant: "mine"), activeLimit: 2)
        let cancelledQueued = try await store.cancelJob("j5", of: "mine")
        #expect(cancelledQueued.state == .cancelled)
        #expect(try await store.queuedJobCount() == 1)
        _ = try await store.claimJob(owner: "replica-a", leaseSeconds: 30)
        // A server starting: an embedded store's one server owns every running job, so those are
        // interrupted; a shared store's replicas interrupt only jobs whose lease ended.
        #expect(try await store.recoverJobs() == (store.isShared ? 0 : 1))
        #expect(try await store.job("j4", of: nil)?.state == (store.isShared ? .running : .interrupted))
        #expect(try await store.jobs(of: "mine").count == 4)
    }

    @Test(arguments: Kind.allCases)
    func modelVersionsServePromoteAndNeverReuseANumber(_ kind: Kind) async throws {
        let (store, remove) = try await Self.emptyStore(kind)
        defer { Task { await remove() } }
        let (tenant, key) = Self.tenant("dairy")
        try await store.createTenant(tenant, key: key)
        let (v1, serves1) = try await store.registerModel(Self.draft("yield", tenant: "dairy"))
        let (v2, serves2) = try await store.registerModel(Self.draft("yield", tenant: "dairy"))
        let (v3, serves3) = try await store.registerModel(Self.draft("yield", tenant: "dairy", promote: true))
        #expect([v1.version, v2.version, v3.version] == [1, 2, 3] && serves1 && !serves2 && serves3)
        #expect(v1.comparison == Data([1, 2]))
        #expect(try await store.modelVersion("yield", version: nil, of: "dairy").record?.version == 3)
        #expect(try await store.modelVersion("yield", version: 2, of: "dairy").record?.id == v2.id)
        let missing = try await store.modelVersion("yield", version: 9, of: "dairy")
        #expect(missing.record == nil && missing.nameExists)
        #expect(try await store.modelVersion("other", version: nil, of: "dairy").nameExists == false)
        #expect(try await store.promote("yield", version: 1, of: "dairy") == 3)
        await #expect(throws: StoreError.self) { _ = try await store.promote("yield", version: 9, of: "dairy") }
        await #expect(throws: StoreError.self) { _ = try await store.deleteVersion("yield", version: 1, of: "dairy") }
        #expect(try await store.deleteVersion("yield", version: 2, of: "dairy").id == v2.id)
        let versions = try #require(try await store.versions(of: "yield", tenant: "dairy"))
        #expect(versions.serving == 1 && versions.records.map(\.version) == [1, 3])
        #expect(try await store.modelNamesInUse(by: "dairy") == ["yield"])
        #expect(try await store.deleteModel("yield", of: "dairy").count == 2)
        #expect(try await store.versions(of: "yield", tenant: "dairy") == nil)
        await #expect(throws: StoreError.self) { _ = try await store.deleteModel("yield", of: "dairy") }
        let (again, servesAgain) = try await store.registerModel(Self.draft("yield", tenant: "dairy"))
        #expect(again.version == 4 && servesAgain, "numbers are not given again; a new first version serves")
        #expect(try await store.recordedFileNames().models == [again.fileName])
    }

    @Test(arguments: Kind.allCases)
    func monitoringRecordsFollowTheirModelAndRetention(_ kind: Kind) async throws {
        let (store, remove) = try await Self.emptyStore(kind)
        defer { Task { await remove() } }
        let (tenant, key) = Self.tenant("energy")
        try await store.createTenant(tenant, key: key)
        let (v1, _) = try await store.registerModel(Self.draft("load", tenant: "energy"))
        let (v2, _) = try await store.registerModel(Self.draft("load", tenant: "energy"))
        let old = Date(timeIntervalSinceNow: -40 * 86_400)
        func window(_ version: Int, ended: Date) -> MonitoringWindowRecord {
            MonitoringWindowRecord(id: nil, tenantId: "energy", modelName: "load", version: version, startedAt: ended.addingTimeInterval(-60),
                                   endedAt: ended, rows: 5, counts: Data([3]))
        }
        func batch(_ version: Int, _ first: Int64, _ last: Int64, at: Date) -> PredictionBatchRecord {
            PredictionBatchRecord(id: nil, tenantId: "energy", modelName: "load", version: version, prefix: "abc", firstSeq: first, lastSeq: last,
                                  createdAt: at, payload: Data([1, 2, 3]))
        }
        let writes = [MonitoringWrite(tenant: "energy", modelRecordID: v1.id, windows: [window(1, ended: Date()), window(1, ended: old)],
                                      batches: [batch(1, 0, 9, at: Date()), batch(1, 10, 19, at: old)]),
                      MonitoringWrite(tenant: "energy", modelRecordID: "gone", windows: [window(2, ended: Date())], batches: []),
                      MonitoringWrite(tenant: "nobody", modelRecordID: nil, windows: [], batches: [])]
        #expect(try await store.saveMonitoring(writes) == [1, 2])
        #expect(try await store.monitoringWindows(of: "load", version: 1, tenant: "energy", limit: 10).count == 2)
        let latest = try #require(try await store.monitoringWindows(of: "load", version: 1, tenant: "energy", limit: 1).first)
        #expect(latest.endedAt > old.addingTimeInterval(86_400), "newest first")
        let found = try await store.loggedPredictions(of: "load", tenant: "energy", ranges: [SequenceRange(prefix: "abc", low: 5, high: 6)], ids: [])
        #expect(found.batches.map(\.firstSeq) == [0] && found.batches.first?.payload == Data([1, 2, 3]))

        func outcome(_ id: String, version: Int, actual: String) -> OutcomeRecord {
            OutcomeRecord(tenantId: "energy", predictionId: id, modelName: "load", version: version, predictedAt: Date(), receivedAt: Date(),
                          predicted: Data([1]), actual: actual)
        }
        let saved = try await store.saveOutcomes([outcome("abc-1", version: 1, actual: "3.5"), outcome("abc-2", version: 2, actual: "4")],
                                                 of: "load", tenant: "energy", checkVersions: true)
        #expect(saved.replaced == 0 && saved.versions == [1, 2])
        let again = try await store.saveOutcomes([outcome("abc-1", version: 1, actual: "3.75")], of: "load", tenant: "energy", checkVersions: true)
        #expect(again.replaced == 1)
        #expect(try await store.outcomes(of: "load", version: 1, tenant: "energy", limit: 10).map(\.actual) == ["3.75"])
        #expect(try await store.loggedPredictions(of: "load", tenant: "energy", ranges: [], ids: ["abc-2", "abc-9"]).outcomes.map(\.predictionId) == ["abc-2"])

        _ = try await store.deleteVersion("load", version: 2, of: "energy")
        await #expect(throws: StoreError.self) {
            _ = try await store.saveOutcomes([outcome("abc-3", version: 2, actual: "1")], of: "load", tenant: "energy", checkVersions: true)
        }
        #expect(try await store.outcomes(of: "load", version: 2, tenant: "energy", limit: 10).isEmpty, "a deleted version's outcomes go with it")
        // 30 days for windows and the tenant's default 30 for predictions: the 40-day-old ones go.
        #expect(try await store.prune(windowsBefore: Date(timeIntervalSinceNow: -30 * 86_400), now: Date()) == 2)
        #expect(try await store.monitoringWindows(of: "load", version: 1, tenant: "energy", limit: 10).count == 1)
        _ = v2
    }

    @Test(arguments: Kind.allCases)
    func changesReachTheOtherReplicasAndTheAdminKeyIsOneForAll(_ kind: Kind) async throws {
        let (store, remove) = try await Self.emptyStore(kind)
        defer { Task { await remove() } }
        let first = APIKey.digest("admin-one"), second = APIKey.digest("admin-two")
        try await store.checkAdminKey(digest: first)
        try await store.checkAdminKey(digest: first)
        if store.isShared {
            await #expect(throws: StoreError.self) { try await store.checkAdminKey(digest: second) }
        } else {
            // One server: a restart with another admin key is how it is changed.
            try await store.checkAdminKey(digest: second)
        }

        let seen = Changes()
        let watcher = Task { try await store.watchChanges { await seen.add($0); return true } }
        defer { watcher.cancel() }
        if !store.isShared {
            // Nothing shares an embedded store: watching ends at once.
            try await watcher.value
            return
        }
        try await Task.sleep(for: .milliseconds(200))
        let (tenant, key) = Self.tenant("hub")
        try await store.createTenant(tenant, key: key)
        _ = try await store.registerModel(Self.draft("yield", tenant: "hub"))
        try await store.announce(.modelUnloaded(tenant: "hub", name: "yield"))
        _ = try await store.deleteTenant("hub")
        // First what may have changed before watching began, then each change.
        let expected: [StoreChange] = [.everything, .keys, .model(tenant: "hub", name: "yield"), .modelUnloaded(tenant: "hub", name: "yield"), .tenantDeleted("hub")]
        let deadline = ContinuousClock.now + .seconds(3)
        while await seen.all.count < expected.count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await seen.all == expected)
    }

    actor Changes {
        var all: [StoreChange] = []
        func add(_ changes: [StoreChange]) { all += changes }
    }

    @Test func aDatabaseOutOfReachAnswersUnavailableWithinTheDeadline() async throws {
        // Port 1: nothing listens there (a privileged port no test server takes).
        let url = try DatabaseURL(parsing: "postgres://testbed@127.0.0.1:1/testbed")
        let store = PostgresStore(url, logger: Logger(label: "test"), deadline: .seconds(1))
        let runner = Task { try? await store.run() }
        defer { runner.cancel() }
        let began = ContinuousClock.now
        do {
            _ = try await store.tenant("any")
            Issue.record("a store without a database answered")
        } catch StoreError.unavailable(let message) {
            #expect(!message.isEmpty)
        }
        // Without the deadline the pool waits for a connection for ever (a server hung 40 s and
        // more before the deadline existed). The bound is loose on purpose: the whole suite,
        // training included, shares two cores with this test, and timers fire late under it
        // (77 s was seen). The cluster test checks the 5 s deadline on a quiet machine.
        #expect(ContinuousClock.now - began < .seconds(300))
        await #expect(throws: StoreError.self) { try await store.prepare(patience: .seconds(1)) }
    }

    @Test(arguments: [
        "mysql://u@h/db", "postgres://h/db", "postgres://u@h/", "postgres://u@h:70000/db", "postgres://u@/db",
        "postgres://u@h/db?sslmode=require", "not a url", "postgres://u@h/a/b",
        // Found by the database fuzz target: a host that printed back as another user and host.
        "postgres://u@%40e=dih/db?sslmode=disable",
    ])
    func aMalformedDatabaseURLIsRefusedWithWhatToWrite(_ text: String) throws {
        #expect(throws: (any Error).self) { _ = try DatabaseURL(parsing: text) }
    }

    @Test func databaseURLsAreReadWithTheirPartsAndShownWithoutThePassword() throws {
        let url = try DatabaseURL(parsing: "postgres://hub:s%40cret@db.local:6543/pilots")
        #expect(url.user == "hub" && url.password == "s@cret" && url.host == "db.local" && url.port == 6543 && url.database == "pilots")
        #expect(!url.description.contains("cret") && !DatabaseURL.hidingPassword("postgres://hub:s3cret@db/p").contains("s3cret"))
        let socket = try DatabaseURL(parsing: "postgresql://hub@/pilots?host=/run/postgresql")
        #expect(socket.socketPath == "/run/postgresql/.s.PGSQL.5432")
    }
}

/// A database of its own on the test PostgreSQL server, dropped afterwards.
enum TestDatabase {
    static var serverURL: DatabaseURL {
        get throws {
            guard let text = ProcessInfo.processInfo.environment["TESTBED_TEST_DATABASE_URL"], !text.isEmpty else {
                throw ServerFailure("TESTBED_TEST_DATABASE_URL is not set: run the tests with scripts/test.sh, which starts a PostgreSQL server (scripts/postgres.sh)")
            }
            return try DatabaseURL(parsing: text)
        }
    }

    static func make() async throws -> (any MetadataStore, @Sendable () async -> Void) {
        let server = try serverURL
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = PostgresStore(server, logger: Logger(label: "test"))
        let adminRunner = Task { try? await admin.run() }
        try await admin.client.query("CREATE DATABASE \(unescaped: name)")
        var url = server
        url.database = name
        // Generous: the whole test suite, training included, shares this machine's cores.
        let store = PostgresStore(url, logger: Logger(label: "test"), deadline: .seconds(30))
        let runner = Task { try? await store.run() }
        try await store.prepare(patience: .seconds(60))
        return (store, {
            runner.cancel()
            _ = try? await admin.client.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
            adminRunner.cancel()
        })
    }
}

/// `testbed serve --database postgres://…`: the pilot flow with its metadata in PostgreSQL,
/// kept across a restart, and the start-up faults a hub meets first.
@Suite("serving on PostgreSQL")
struct PostgresServingTests {
    @Test func thePilotFlowRunsOnPostgreSQLAndSurvivesARestart() async throws {
        let (store, remove) = try await TestDatabase.make()
        defer { Task { await remove() } }
        let url = try #require(store as? PostgresStore).url
        let server = try ServerProcess(arguments: ["--database", url])
        let issued = try await server.send(.POST, "/api/v1/tenants", key: server.adminKey, json: ["id": "pg-lab"]).object
        let key = try #require(issued["api_key"] as? String)
        let dataset = try await server.upload("Servo.csv", name: "servo", key: key)
        let created = try await server.send(.POST, "/api/v1/jobs", key: key,
                                            json: ["dataset": dataset, "target": "Class", "algorithms": "ridge", "model_name": "servo-pg"])
        let job = try #require(created.object["id"] as? String, "\(created.text)")
        let states = try await server.watchJob(job, key: key) { ["succeeded", "failed"].contains($0["state"] as? String) }
        #expect(states.last?["state"] as? String == "succeeded", "\(states.last ?? [:])")
        let row: [String: Any] = ["Motor": "E", "Screw": "E", "Pgain": 5, "Vgain": 4]
        let before = try await server.send(.POST, "/api/v1/models/servo-pg/predict", key: key, json: ["rows": [row]])
        #expect(before.status == 200, "\(before.text)")
        // What the server wrote is in PostgreSQL, not in a SQLite file beside the data.
        #expect(try await store.jobs(of: "pg-lab").map(\.state) == [.succeeded])
        #expect(try await store.datasets(of: "pg-lab").map(\.id) == [dataset])
        #expect(!FileManager.default.fileExists(atPath: server.dataDirectory + "/testbed.sqlite"))

        #expect(server.stop() == 0)
        try server.start()
        let after = try await server.send(.POST, "/api/v1/models/servo-pg/predict", key: key, json: ["rows": [row]])
        #expect(after.status == 200, "\(after.text)")
        #expect(try #require((after.object["predictions"] as? [[String: Any]])?.first?.number("prediction"))
                == (before.object["predictions"] as? [[String: Any]])?.first?.number("prediction"))
        let audit = try await server.send(.GET, "/api/v1/audit", key: server.adminKey)
        #expect(audit.text.contains("model.registered"), "\(audit.text.prefix(300))")
    }

    @Test(arguments: [
        (["--database", "postgres://nobody/db"], "names no user"),
        (["--database", "postgres://u@127.0.0.1:1/db", "--database-wait", "1"], "could not be reached"),
        // /proc takes no new directory, even from root: a storage root nothing can be written to.
        (["--database", "postgres://u@127.0.0.1:1/db", "--data-dir", "/proc/testbed-storage"], "is not writable by this server"),
    ])
    func aServerWithoutAUsableDatabaseExitsWithWhatWasWrong(_ arguments: [String], _ expected: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = Process()
        process.executableURL = ServerProcess.executable
        process.arguments = ["serve", "--port", "0"] + (arguments.contains("--data-dir") ? [] : ["--data-dir", directory]) + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let started = Date()
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(text.contains(expected), "\(text.suffix(600))")
    }
}

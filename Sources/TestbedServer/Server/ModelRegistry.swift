import Foundation
import GRDB
import InferenceCore
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOPosix

/// A model as the server serves it: its owner (none for a demonstration model) and, for a
/// tenant's model, the database record that says where it came from.
struct ServedModel: Sendable {
    let name: String
    /// The owning tenant; `nil` for the read-only demonstration models.
    let owner: String?
    let model: TrainedModel
    let record: ModelRecord?
    /// Demonstration models: the use case in one paragraph, from `<name>.md` beside the model.
    let story: String?
    /// Made once per model: looking a metric up by name on every request costs more than the model.
    let counters: ModelCounters

    init(name: String, owner: String?, model: TrainedModel, record: ModelRecord?, story: String?) {
        (self.name, self.owner, self.model, self.record, self.story) = (name, owner, model, record, story)
        counters = ModelCounters(model: name, tenant: owner)
    }

    var isDemonstration: Bool { owner == nil }
}

/// Predictions and rows scored, by model (and by tenant for a tenant's own models, whose names
/// are the tenant's), for `/metrics`.
struct ModelCounters: Sendable {
    let predictions: Counter
    let rows: Counter

    init(model: String, tenant: String?) {
        let dimensions = [("model", model)] + (tenant.map { [("tenant", $0)] } ?? [])
        predictions = Counter(label: "testbed_predictions_total", dimensions: dimensions)
        rows = Counter(label: "testbed_rows_scored_total", dimensions: dimensions)
    }

    /// Drops the series of a deleted model: kept, every model ever trained would stay in
    /// `/metrics` and in memory (a soak of 1,400 train-and-delete rounds left 3,500 series).
    func destroy() {
        predictions.destroy()
        rows.destroy()
    }
}

/// Every model the server can use: the demonstration models (loaded at start, read-only) and
/// the tenants' own (loaded from disk on first use and then kept in memory).
///
/// A tenant's view is its own models plus the demonstration models; a tenant's model hides a
/// demonstration model of the same name only in that tenant's view, and names are checked at
/// registration so that this does not happen.
final class ModelRegistry: Sendable {
    private let demonstrations: [String: ServedModel]
    /// "tenant/name" to the model that name means in that tenant's view, once looked up.
    private let cache = NIOLockedValueBox<[String: ServedModel]>([:])
    /// "tenant/name" of models unloaded through the repository extension, per tenant view.
    private let unloaded = NIOLockedValueBox<Set<String>>([])
    private let store: MetadataStore
    private let files: FileStore

    init(store: MetadataStore, files: FileStore, modelsDirectory: String, logger: Logger) throws {
        self.store = store
        self.files = files
        var demonstrations: [String: ServedModel] = [:]
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        for file in names {
            let name = String(file.dropLast(5))
            let path = modelsDirectory + "/" + file
            let model = try TrainedModel.load(from: path)
            let story = (try? String(contentsOfFile: modelsDirectory + "/" + name + ".md", encoding: .utf8)).map(Self.firstParagraph)
            demonstrations[name] = ServedModel(name: name, owner: nil, model: model, record: nil, story: story)
            logger.info("demonstration model loaded", metadata: ["model": "\(name)", "algorithm": "\(model.algorithm)"])
        }
        self.demonstrations = demonstrations
    }

    var demonstrationNames: [String] { demonstrations.keys.sorted() }

    /// The model `name` as `tenant` sees it, or 404 as if it did not exist.
    func find(_ name: String, for tenant: String) async throws -> ServedModel {
        let key = tenant + "/" + name
        if let cached = cache.withLockedValue({ $0[key] }) { return cached }
        if let record = try await store.pool.read({ db in
            try ModelRecord.filter(Column("tenantId") == tenant && Column("name") == name).fetchOne(db)
        }) {
            return try await load(record)
        }
        if let demonstration = demonstrations[name] {
            // Safe to remember: a tenant cannot register a model under a demonstration model's name.
            cache.withLockedValue { $0[key] = demonstration }
            return demonstration
        }
        throw APIError.notFound("there is no model '\(name.clipped())'; GET /api/v1/models lists the models you can use")
    }

    /// The tenant's own models, newest first, then the demonstration models by name.
    func list(for tenant: String) async throws -> [ServedModel] {
        let records = try await store.pool.read { db in
            try ModelRecord.filter(Column("tenantId") == tenant).order(Column("createdAt").desc).fetchAll(db)
        }
        var own: [ServedModel] = []
        for record in records { own.append(try await load(record)) }
        return own + demonstrationNames.map { demonstrations[$0]! }
    }

    /// Whether `name` is free for a new model of `tenant`.
    func isNameTaken(_ name: String, by tenant: String, in db: Database) throws -> Bool {
        try demonstrations[name] != nil || ModelRecord.filter(Column("tenantId") == tenant && Column("name") == name).fetchCount(db) > 0
    }

    /// Writes the model file, then its record; a crash in between leaves an unreferenced file,
    /// never a record without its file.
    func register(_ model: TrainedModel, name: String, tenant: String, datasetID: String?, jobID: String?) async throws -> ServedModel {
        let record = ModelRecord(id: UUID().uuidString.lowercased(), tenantId: tenant, name: name,
                                 fileName: "\(tenant)-\(UUID().uuidString.lowercased()).json",
                                 datasetId: datasetID, jobId: jobID, createdAt: Date())
        let data = try model.jsonData()
        try files.writeAtomically(data, to: files.modelPath(record.fileName))
        do {
            try await store.pool.write { db in
                guard try !self.isNameTaken(name, by: tenant, in: db) else {
                    throw APIError.conflict("a model named '\(name.clipped())' already exists; choose another name or delete that model first")
                }
                try record.insert(db)
                try MetadataStore.audit(db, tenant: tenant, actor: jobID.map { "job \($0)" } ?? tenant, action: "model.registered", subject: name)
            }
        } catch {
            files.remove(files.modelPath(record.fileName))
            throw error
        }
        let served = ServedModel(name: name, owner: tenant, model: model, record: record, story: nil)
        cache.withLockedValue { $0[tenant + "/" + name] = served }
        return served
    }

    /// Deletes a tenant's model and erases its file. Demonstration models are read-only.
    func delete(_ name: String, for tenant: String) async throws {
        let served = try await find(name, for: tenant)
        guard let record = served.record else {
            throw APIError.forbidden("'\(name.clipped())' is a demonstration model; demonstration models are read-only")
        }
        try await store.pool.write { db in
            _ = try ModelRecord.deleteOne(db, key: record.id)
            try MetadataStore.audit(db, tenant: tenant, actor: tenant, action: "model.deleted", subject: name)
        }
        files.remove(files.modelPath(record.fileName))
        let key = tenant + "/" + name
        cache.withLockedValue { _ = $0.removeValue(forKey: key) }
        unloaded.withLockedValue { _ = $0.remove(key) }
        served.counters.destroy()
    }

    // MARK: Open Inference Protocol repository extension

    func isLoaded(_ name: String, for tenant: String) -> Bool {
        !unloaded.withLockedValue { $0.contains(tenant + "/" + name) }
    }

    /// Makes the model available again in `tenant`'s view (after ``unload(_:for:)``).
    func load(_ name: String, for tenant: String) async throws {
        _ = try await find(name, for: tenant)
        unloaded.withLockedValue { _ = $0.remove(tenant + "/" + name) }
    }

    /// Takes the model out of service in `tenant`'s view and frees a tenant model's memory; its
    /// file stays, and ``load(_:for:)`` brings it back.
    func unload(_ name: String, for tenant: String) async throws {
        _ = try await find(name, for: tenant)
        let key = tenant + "/" + name
        unloaded.withLockedValue { _ = $0.insert(key) }
        cache.withLockedValue { _ = $0.removeValue(forKey: key) }
    }

    private func load(_ record: ModelRecord) async throws -> ServedModel {
        let path = files.modelPath(record.fileName)
        // Decoding a large model file is CPU work: off the event loop.
        let model = try await NIOThreadPool.singleton.runIfActive { try TrainedModel.load(from: path) }
        let served = ServedModel(name: record.name, owner: record.tenantId, model: model, record: record, story: nil)
        cache.withLockedValue { $0[record.tenantId + "/" + record.name] = served }
        return served
    }

    private static func firstParagraph(_ markdown: String) -> String {
        let paragraphs = markdown.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return paragraphs.first { !$0.isEmpty && !$0.hasPrefix("#") }?.replacingOccurrences(of: "\n", with: " ") ?? ""
    }
}

/// Names of models and datasets: used in URLs, so kept to a safe alphabet.
enum ResourceName {
    static func validate(_ name: String, of kind: String) throws {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 45 || byte == 46 || byte == 95
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed, name.first != "." else {
            throw APIError.badRequest("the \(kind) name '\(name.clipped())' is not allowed; use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'")
        }
    }
}

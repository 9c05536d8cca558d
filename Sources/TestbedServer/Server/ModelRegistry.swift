import Foundation
import InferenceCore
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOPosix

/// A model as the server serves it: its owner (none for a demonstration model), its version
/// and, for a tenant's model, the database record that says where it came from.
struct ServedModel: Sendable {
    let name: String
    /// 1 for a demonstration model; a tenant's model name is a series of versions.
    let version: Int
    /// The owning tenant; `nil` for the read-only demonstration models.
    let owner: String?
    let model: TrainedModel
    let record: ModelRecord?
    /// Demonstration models: the use case in one paragraph, from `<name>.md` beside the model.
    let story: String?
    /// Made once per model: looking a metric up by name on every request costs more than the model.
    let counters: ModelCounters

    init(name: String, version: Int, owner: String?, model: TrainedModel, record: ModelRecord?, story: String?) {
        (self.name, self.version, self.owner, self.model, self.record, self.story) = (name, version, owner, model, record, story)
        counters = ModelCounters(model: name, tenant: owner)
    }

    var isDemonstration: Bool { owner == nil }
}

/// Predictions and rows scored, by model name (and by tenant for a tenant's own models, whose
/// names are the tenant's), for `/metrics`; every version of a name counts in the same series.
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

/// A model name's versions as a tenant sees them.
struct ModelVersions: Sendable {
    let name: String
    let serving: Int
    /// Oldest first; a demonstration model has one version and no records.
    let records: [ModelRecord]
}

/// Every model the server can use: the demonstration models (loaded at start, read-only) and
/// the tenants' own (loaded from disk on first use and then kept in memory).
///
/// A tenant's model name is a series of versions, one of which serves: `find(name)` is that
/// version, `find(name, version:)` any of them. A tenant's view is its own models plus the
/// demonstration models (each version 1 of its name); names are checked at registration so
/// that a tenant's model never hides a demonstration model.
final class ModelRegistry: Sendable {
    private let demonstrations: [String: ServedModel]
    /// "tenant/name" (the serving version) and "tenant/name@version" to the model, once looked up.
    private let cache = NIOLockedValueBox<[String: ServedModel]>([:])
    /// "tenant/name" of models unloaded through the repository extension, per tenant view.
    private let unloaded = NIOLockedValueBox<Set<String>>([])
    /// Counts changes to which versions exist and serve (promotions, registrations, deletions),
    /// so that a lookup that raced one does not cache its stale answer.
    private let generation = NIOLockedValueBox(0)
    private let store: any MetadataStore
    private let files: FileStore

    init(store: any MetadataStore, files: FileStore, modelsDirectory: String, logger: Logger) throws {
        self.store = store
        self.files = files
        var demonstrations: [String: ServedModel] = [:]
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: modelsDirectory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        for file in names {
            let name = String(file.dropLast(5))
            let path = modelsDirectory + "/" + file
            let model = try TrainedModel.load(from: path)
            let story = (try? String(contentsOfFile: modelsDirectory + "/" + name + ".md", encoding: .utf8)).map(Self.firstParagraph)
            demonstrations[name] = ServedModel(name: name, version: 1, owner: nil, model: model, record: nil, story: story)
            logger.info("demonstration model loaded", metadata: ["model": "\(name)", "algorithm": "\(model.algorithm)"])
        }
        self.demonstrations = demonstrations
    }

    var demonstrationNames: [String] { demonstrations.keys.sorted() }

    /// The model `name` as `tenant` sees it, its serving version or the one asked for, or 404
    /// as if it did not exist.
    func find(_ name: String, version: Int? = nil, for tenant: String) async throws -> ServedModel {
        let key = Self.key(tenant, name, version)
        if let cached = cache.withLockedValue({ $0[key] }) { return cached }
        let seen = generation.withLockedValue { $0 }
        let found = try await store.modelVersion(name, version: version, of: tenant)
        if let record = found.0 {
            let versionKey = Self.key(tenant, name, record.version)
            let cached = cache.withLockedValue { $0[versionKey] }
            let served = if let cached { cached } else { try await load(record) }
            // A change since the read above may have made this answer stale: used once, not kept.
            cache.withLockedValue { cache in
                guard seen == generation.withLockedValue({ $0 }) else { return }
                cache[versionKey] = served
                cache[key] = served
            }
            return served
        }
        if found.1, let version {
            throw StoreError.notFound(.modelVersion(name, version: version))
        }
        if let demonstration = demonstrations[name] {
            guard version == nil || version == 1 else {
                throw APIError.notFound("'\(name.clipped())' is a demonstration model; its only version is 1")
            }
            // Safe to remember: a tenant cannot register a model under a demonstration model's name.
            cache.withLockedValue { $0[key] = demonstration }
            return demonstration
        }
        throw StoreError.notFound(.model(name))
    }

    /// The tenant's own models (their serving versions), newest first, then the demonstration models by name.
    func list(for tenant: String) async throws -> [ServedModel] {
        let names = try await store.modelNames(of: tenant)
        var own: [ServedModel] = [], seen = Set<String>()
        for name in names where seen.insert(name).inserted { own.append(try await find(name, for: tenant)) }
        return own + demonstrationNames.map { demonstrations[$0]! }
    }

    /// The versions of `name` in `tenant`'s view, oldest first, and the one that serves.
    func versions(of name: String, for tenant: String) async throws -> ModelVersions {
        if let found = try await store.versions(of: name, tenant: tenant) {
            return ModelVersions(name: name, serving: found.serving, records: found.records)
        }
        guard demonstrations[name] != nil else { throw StoreError.notFound(.model(name)) }
        return ModelVersions(name: name, serving: 1, records: [])
    }

    func isDemonstration(_ name: String) -> Bool { demonstrations[name] != nil }

    /// Writes the model file, then its record as the next version of `name`; the first version
    /// of a name serves at once, a later one when `promote` says so (the answer says whether it
    /// serves). A later version must predict the same target as the same task. A crash in
    /// between leaves an unreferenced file, never a record without its file.
    func register(_ model: TrainedModel, name: String, tenant: String, datasetID: String?, jobID: String?,
                  promote: Bool = false, comparison: Data? = nil) async throws -> (served: ServedModel, serves: Bool) {
        guard demonstrations[name] == nil else {
            throw APIError.conflict("'\(name.clipped())' is a demonstration model's name; demonstration models are read-only, so choose another name")
        }
        if let serving = try? await find(name, for: tenant), !serving.isDemonstration {
            try Self.checkSameTarget(model, as: serving)
        }
        let fileName = "\(tenant)-\(UUID().uuidString.lowercased()).json"
        try files.writeAtomically(try model.jsonData(), to: files.modelPath(fileName))
        changed()
        let (record, serves): (ModelRecord, Bool)
        do {
            (record, serves) = try await store.registerModel(ModelDraft(tenant: tenant, name: name, fileName: fileName, datasetID: datasetID,
                                                                       jobID: jobID, promote: promote, comparison: comparison))
        } catch {
            // Out of reach, the database may still have committed the record: the file stays, and
            // goes with the leftovers if no record names it.
            if case StoreError.unavailable = error {} else { files.remove(files.modelPath(fileName)) }
            throw error
        }
        invalidate(name, for: tenant)
        return (ServedModel(name: name, version: record.version, owner: tenant, model: model, record: record, story: nil), serves)
    }

    /// Refuses a version that would change what the name predicts under its clients' feet.
    static func checkSameTarget(_ model: TrainedModel, as serving: ServedModel) throws {
        let (old, new) = (serving.model, model)
        guard old.target == new.target, old.task == new.task else {
            throw APIError.conflict("version \(serving.version) of '\(serving.name.clipped())' predicts '\(old.target.clipped())' (\(old.task.rawValue)); a new version must too, and this one predicts '\(new.target.clipped())' (\(new.task.rawValue)); choose another model_name")
        }
    }

    /// Makes `version` the one `name` serves (a rollback is promoting an earlier one); returns
    /// the version that served before.
    func promote(_ name: String, version: Int, for tenant: String) async throws -> Int {
        guard demonstrations[name] == nil else {
            throw APIError.forbidden("'\(name.clipped())' is a demonstration model; demonstration models are read-only")
        }
        changed()
        let previous = try await store.promote(name, version: version, of: tenant)
        invalidate(name, for: tenant)
        return previous
    }

    /// Deletes one version that does not serve, with its file and what was recorded of its use.
    /// Only records are read: a model file that no longer loads can still be deleted.
    func delete(_ name: String, version: Int, for tenant: String) async throws {
        guard demonstrations[name] == nil else {
            throw APIError.forbidden("'\(name.clipped())' is a demonstration model; demonstration models are read-only")
        }
        changed()
        let record = try await store.deleteVersion(name, version: version, of: tenant)
        files.remove(files.modelPath(record.fileName))
        cache.withLockedValue { $0[Self.key(tenant, name, version)] = nil }
    }

    /// Deletes a tenant's model, every version, their files and what was recorded of their
    /// use (monitoring windows, predictions, outcomes). Its version numbers are not given again.
    /// Demonstration models are read-only.
    func delete(_ name: String, for tenant: String) async throws {
        guard demonstrations[name] == nil else {
            throw APIError.forbidden("'\(name.clipped())' is a demonstration model; demonstration models are read-only")
        }
        changed()
        let records = try await store.deleteModel(name, of: tenant)
        for record in records { files.remove(files.modelPath(record.fileName)) }
        invalidate(name, for: tenant)
        unloaded.withLockedValue { _ = $0.remove(tenant + "/" + name) }
        ModelCounters(model: name, tenant: tenant).destroy()
    }

    /// Forgets every model of a deleted tenant (its records and files are gone already).
    func forget(tenant: String) {
        changed()
        let prefix = tenant + "/"
        let dropped = cache.withLockedValue { cache -> [ServedModel] in
            let keys = cache.keys.filter { $0.hasPrefix(prefix) }
            defer { for key in keys { cache[key] = nil } }
            return keys.compactMap { cache[$0] }
        }
        for served in dropped where served.owner == tenant { served.counters.destroy() }
        unloaded.withLockedValue { $0 = $0.filter { !$0.hasPrefix(prefix) } }
    }

    // MARK: Open Inference Protocol repository extension

    func isLoaded(_ name: String, for tenant: String) -> Bool {
        !unloaded.withLockedValue { $0.contains(tenant + "/" + name) }
    }

    /// Makes the model available again in `tenant`'s view (after ``unload(_:for:)``), on every replica.
    func load(_ name: String, for tenant: String) async throws {
        _ = try await find(name, for: tenant)
        markLoaded(name, for: tenant)
        try await store.announce(.modelLoaded(tenant: tenant, name: name))
    }

    func markLoaded(_ name: String, for tenant: String) {
        unloaded.withLockedValue { _ = $0.remove(tenant + "/" + name) }
    }

    /// Takes the model (every version) out of service in `tenant`'s view and frees a tenant
    /// model's memory; its files stay, and ``load(_:for:)`` brings it back.
    func unload(_ name: String, for tenant: String) async throws {
        _ = try await find(name, for: tenant)
        markUnloaded(name, for: tenant)
        try await store.announce(.modelUnloaded(tenant: tenant, name: name))
    }

    /// ``unload(_:for:)`` as another replica announced it.
    func markUnloaded(_ name: String, for tenant: String) {
        unloaded.withLockedValue { _ = $0.insert(tenant + "/" + name) }
        invalidate(name, for: tenant)
    }

    /// Forgets every tenant model held (demonstration models stay): after changes that may have
    /// been missed, such as those made while this server started.
    func forgetTenantModels() {
        changed()
        cache.withLockedValue { cache in cache = cache.filter { $0.value.isDemonstration } }
    }

    /// Versions of `name` were registered, promoted or deleted through another replica: what is
    /// cached of it goes, and a lookup under way does not keep its answer.
    func changedElsewhere(_ name: String, for tenant: String) {
        changed()
        invalidate(name, for: tenant)
    }

    private func load(_ record: ModelRecord) async throws -> ServedModel {
        let path = files.modelPath(record.fileName)
        // Decoding a large model file is CPU work: off the event loop.
        let model = try await NIOThreadPool.singleton.runIfActive { try TrainedModel.load(from: path) }
        return ServedModel(name: record.name, version: record.version, owner: record.tenantId, model: model, record: record, story: nil)
    }

    /// Marks a change about to be made to which versions exist or serve: a lookup that read the
    /// database before it does not cache what it read.
    private func changed() { generation.withLockedValue { $0 += 1 } }

    /// Forgets every cached version of `name`, after a change to it.
    private func invalidate(_ name: String, for tenant: String) {
        let prefix = Self.key(tenant, name, nil)
        cache.withLockedValue { cache in
            for key in cache.keys where key == prefix || key.hasPrefix(prefix + "@") { cache[key] = nil }
        }
    }

    private static func key(_ tenant: String, _ name: String, _ version: Int?) -> String {
        tenant + "/" + name + (version.map { "@\($0)" } ?? "")
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

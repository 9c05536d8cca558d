import Foundation
import NIOConcurrencyHelpers

/// Who is calling: the hub's administrator or one tenant, through one of its keys.
enum Caller: Sendable, Equatable {
    case admin
    case tenant(id: String, keyID: String)
}

/// The keys the server accepts, held in memory so that checking a request costs no database
/// read; every change is written to the database first and then applied here.
final class KeyRing: Sendable {
    private struct Entry: Sendable {
        var tenantID: String
        var digest: Data
        var revoked: Bool

        init(_ record: APIKeyRecord) {
            (tenantID, digest, revoked) = (record.tenantId, record.secretDigest, record.revokedAt != nil)
        }
    }

    private let adminDigest: Data
    private let entries: NIOLockedValueBox<[String: Entry]>
    /// A store that other replicas write keys to: a key not held here is looked up there.
    private let shared: (any MetadataStore)?

    init(adminKey: String, keys records: [APIKeyRecord], shared: (any MetadataStore)? = nil) {
        adminDigest = APIKey.digest(adminKey)
        self.shared = shared
        entries = NIOLockedValueBox(Dictionary(uniqueKeysWithValues: records.map { ($0.id, Entry($0)) }))
    }

    /// The caller a bearer token stands for, or why it is refused.
    func authenticate(_ token: String) -> Result<Caller, APIError> {
        // One digest per request: a tenant's key is found by its id, anything else may be the admin key.
        guard let key = APIKey(token: token), let entry = entries.withLockedValue({ $0[key.id] }) else {
            return APIKey.constantTimeEquals(APIKey.digest(token), adminDigest) ? .success(.admin) : .failure(Self.invalid)
        }
        return Self.check(key, against: entry)
    }

    private static let invalid = APIError.unauthorized("the API key is not valid; send a key issued by the hub as 'Authorization: Bearer <key>'")

    private static func check(_ key: APIKey, against entry: Entry) -> Result<Caller, APIError> {
        guard APIKey.constantTimeEquals(key.digest, entry.digest) else { return .failure(invalid) }
        if entry.revoked { return .failure(.unauthorized("this API key was revoked; ask the hub for a new one")) }
        return .success(.tenant(id: entry.tenantID, keyID: key.id))
    }

    /// ``authenticate(_:)``, after looking a key that is not held here up in the shared store:
    /// a key issued through another replica a moment ago works at once.
    func authenticateLearning(_ token: String) async -> Result<Caller, APIError> {
        let answer = authenticate(token)
        guard case .failure = answer, let shared, let key = APIKey(token: token), entries.withLockedValue({ $0[key.id] == nil }),
              let record = try? await shared.key(key.id) else { return answer }
        restore(record)
        // Checked against the record just read, not the ring: the change feed may replace the ring
        // with keys it read before this one was stored (seen in the cluster test under load).
        return Self.check(key, against: Entry(record))
    }

    /// Holds exactly these keys: after keys were issued, revoked or deleted through another replica.
    func replaceAll(_ records: [APIKeyRecord]) {
        entries.withLockedValue { entries in
            entries = Dictionary(uniqueKeysWithValues: records.map { ($0.id, Entry($0)) })
        }
    }

    /// A new key for `tenant` and the record to store; the secret exists only in the key.
    static func newKey(for tenant: String) -> (APIKey, APIKeyRecord) {
        let key = APIKey.generate()
        return (key, APIKeyRecord(id: key.id, tenantId: tenant, secretDigest: key.digest, createdAt: Date(), revokedAt: nil))
    }

    /// Makes a key from ``newKey(for:)`` usable, once it is stored.
    func activate(_ record: APIKeyRecord) {
        entries.withLockedValue { $0[record.id] = Entry(record) }
    }

    func revoke(_ keyID: String) {
        entries.withLockedValue { $0[keyID]?.revoked = true }
    }

    /// Forgets a key whose tenant is being deleted.
    func remove(_ keyID: String) {
        entries.withLockedValue { _ = $0.removeValue(forKey: keyID) }
    }

    /// Accepts a stored key again as it was (revoked or not), when its tenant's deletion was refused.
    func restore(_ record: APIKeyRecord) {
        entries.withLockedValue { $0[record.id] = Entry(record) }
    }
}

/// The admin key: `TESTBED_ADMIN_KEY` when set, else the one in `<data-dir>/admin.key`, created
/// on first start with a random value and permissions that let only its owner read it.
enum AdminKey {
    static func resolve(environment: String?, dataDirectory: String) throws -> (key: String, source: String) {
        if let environment, !environment.isEmpty { return (environment, "TESTBED_ADMIN_KEY") }
        let path = dataDirectory + "/admin.key"
        if let stored = try? String(contentsOfFile: path, encoding: .utf8) {
            let key = stored.trimmingCharacters(in: .whitespacesAndNewlines)
            if !key.isEmpty { return (key, path) }
        }
        let key = "tb_admin_" + APIKey.randomHex(bytes: 32)
        guard FileManager.default.createFile(atPath: path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw StorageError("cannot write the admin key to \(path)")
        }
        return (key, path)
    }
}

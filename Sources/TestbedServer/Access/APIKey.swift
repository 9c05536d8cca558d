import Crypto
import Foundation

/// API keys as handed out: `tb_<id>_<secret>`. The id finds the stored record; only a SHA-256
/// digest of the secret is stored, and digests are compared in constant time.
struct APIKey: Sendable {
    let id: String
    let secret: String

    var token: String { "tb_\(id)_\(secret)" }
    var digest: Data { Self.digest(secret) }

    /// A new key: 8 random bytes of id and 32 of secret, from the system's secure generator.
    static func generate() -> APIKey {
        APIKey(id: randomHex(bytes: 8), secret: randomHex(bytes: 32))
    }

    /// Splits a presented token; `nil` when it does not have the shape of a key.
    init?(token: String) {
        let parts = token.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "tb", !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        self.init(id: String(parts[1]), secret: String(parts[2]))
    }

    private init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    static func digest(_ secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Compares two digests without stopping at the first difference, so the time taken says
    /// nothing about how much of a guessed key was right.
    static func constantTimeEquals(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

import Crypto
import Foundation

/// SHA-256 digests of files, read in chunks.
public enum FileDigest {
    /// The lower-case hex SHA-256 of the file at `path`.
    public static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TestbedError(.io, "cannot open '\(path)' to compute its digest")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The lower-case hex SHA-256 of `bytes`.
    public static func sha256(of bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}

import GRPCCore

extension Metadata {
    /// The `authorization` metadata as HTTP reads its header: several values joined by ", "
    /// (and then refused as not one key); `nil` when absent.
    var authorization: String? {
        let values = Array(self[stringValues: "authorization"])
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }
}

extension AccessCheck {
    /// The tenant an RPC's `authorization: Bearer <key>` metadata stands for, with the key's rate
    /// limit applied, or the same refusal HTTP gives (401, 403 for the admin key, 429).
    func tenant(_ metadata: Metadata) async throws -> String {
        try await caller(authorization: metadata.authorization).tenant()
    }
}

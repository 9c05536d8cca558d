import Foundation
import Hummingbird

/// Admin routes: tenants (one per SME pilot), their keys, and the audit log.
struct TenantRoutes {
    let services: Services

    struct CreateTenant: Decodable {
        var id: String
        var displayName: String?
        enum CodingKeys: String, CodingKey { case id; case displayName = "display_name" }
    }

    struct IssuedKey: ResponseEncodable, Decodable {
        var tenant: String
        var keyID: String
        /// Shown once; only its digest is stored.
        var apiKey: String
        enum CodingKeys: String, CodingKey { case tenant; case keyID = "key_id"; case apiKey = "api_key" }
    }

    struct TenantView: ResponseEncodable, Decodable {
        struct Key: Codable {
            var id: String
            var createdAt: Date
            var revokedAt: Date?
            enum CodingKeys: String, CodingKey { case id; case createdAt = "created_at"; case revokedAt = "revoked_at" }
        }
        var id: String
        var displayName: String
        var createdAt: Date
        var keys: [Key]
        enum CodingKeys: String, CodingKey { case id, keys; case displayName = "display_name"; case createdAt = "created_at" }
    }

    /// Who a key belongs to, for clients such as the dashboard that adapt to it.
    struct Identity: ResponseEncodable, Decodable {
        var role: String
        var tenant: String?
        var displayName: String?
        var keyID: String?
        enum CodingKeys: String, CodingKey { case role, tenant; case displayName = "display_name"; case keyID = "key_id" }
    }

    struct AuditView: ResponseEncodable, Decodable {
        var id: Int64
        var at: Date
        var tenant: String?
        var actor: String
        var action: String
        var subject: String
    }

    func add(to router: RouterGroup<TestbedContext>) {
        router.post("tenants") { request, context -> Created<IssuedKey> in
            try context.requireAdmin()
            let body = try await request.decodeJSON(CreateTenant.self, limit: services.limits.maxRequestBytes, expected: #"{"id": "sawmill-north", "display_name": "…"}"#)
            try ResourceName.validate(body.id, of: "tenant")
            guard !services.monitoring.isRetired(body.id) else {
                throw APIError.conflict("a tenant '\(body.id.clipped())' was deleted moments ago; its requests still in flight are being dropped, so the id can be given again after \(Int(MonitoringService.quarantine)) seconds")
            }
            let tenant = TenantRecord(id: body.id, displayName: body.displayName ?? body.id, createdAt: Date())
            let (key, record) = KeyRing.newKey(for: tenant.id)
            try await services.store.createTenant(tenant, key: record)
            services.keys.activate(record)
            return Created(body: IssuedKey(tenant: tenant.id, keyID: key.id, apiKey: key.token))
        }
        router.get("me") { _, context -> Identity in
            guard case .tenant(let id, let keyID)? = context.caller else { return Identity(role: "admin") }
            let tenant = try await services.store.tenant(id)
            return Identity(role: "tenant", tenant: id, displayName: tenant?.displayName, keyID: keyID)
        }
        router.get("tenants") { _, context -> [TenantView] in
            try context.requireAdmin()
            return try await services.store.tenantsWithKeys().map { tenant, keys in
                TenantView(id: tenant.id, displayName: tenant.displayName, createdAt: tenant.createdAt,
                           keys: keys.map { .init(id: $0.id, createdAt: $0.createdAt, revokedAt: $0.revokedAt) })
            }
        }
        router.post("tenants/{tenant}/keys") { _, context -> Created<IssuedKey> in
            try context.requireAdmin()
            let tenant = try context.parameters.require("tenant")
            let (key, record) = KeyRing.newKey(for: tenant)
            try await services.store.addKey(record)
            services.keys.activate(record)
            return Created(body: IssuedKey(tenant: tenant, keyID: key.id, apiKey: key.token))
        }
        router.delete("tenants/{tenant}/keys/{key}") { _, context -> HTTPResponse.Status in
            try context.requireAdmin()
            let (tenant, keyID) = (try context.parameters.require("tenant"), try context.parameters.require("key"))
            try await services.store.revokeKey(keyID, of: tenant)
            services.keys.revoke(keyID)
            return .noContent
        }
        router.delete("tenants/{tenant}") { _, context -> HTTPResponse.Status in
            try context.requireAdmin()
            try await deleteTenant(try context.parameters.require("tenant"))
            return .noContent
        }
        router.get("audit") { request, context -> [AuditView] in
            try context.requireAdmin()
            let limit = try request.query("limit").map { text in
                guard let limit = Int(text), (1...10_000).contains(limit) else {
                    throw APIError.badRequest("?limit=\(text.clipped()) is not a number of entries from 1 to 10000", code: "invalid_parameter")
                }
                return limit
            } ?? 100
            return try await services.store.auditLog(limit: limit).map {
                AuditView(id: $0.id ?? 0, at: $0.at, tenant: $0.tenantId, actor: $0.actor, action: $0.action, subject: $0.subject)
            }
        }
    }

    /// Deletes a tenant and everything it owns: keys, datasets, jobs, every model version,
    /// monitoring windows, logged predictions and outcomes (the database cascades from the
    /// tenant), then the files and what is held in memory. Its keys stop working first, so that
    /// nothing new arrives while it goes. Refused while a job of it is queued or running, whose
    /// training process would otherwise write for a tenant that is gone.
    private func deleteTenant(_ tenant: String) async throws {
        let keys = try await services.store.keys(of: tenant)
        for key in keys { services.keys.remove(key.id) }
        let (datasets, models): ([String], [String])
        do {
            (datasets, models) = try await services.store.deleteTenant(tenant)
        } catch {
            for key in keys { services.keys.restore(key) }
            throw error
        }
        for file in datasets { services.files.remove(services.files.datasetPath(file)) }
        for file in models { services.files.remove(services.files.modelPath(file)) }
        services.registry.forget(tenant: tenant)
        services.monitoring.retire(tenant: tenant)
    }
}

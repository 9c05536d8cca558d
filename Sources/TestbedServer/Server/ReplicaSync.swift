import Logging
import ServiceLifecycle

/// Keeps what this server holds in memory in step with what other replicas change in the
/// shared store: keys, deleted tenants, tenants' settings, and which model versions serve or
/// are unloaded (``MetadataStore/watchChanges(_:)``: within a second). With an embedded store,
/// which no other server shares, it has nothing to do.
struct ReplicaSync: Service {
    let services: Services

    func run() async throws {
        let (store, logger) = (services.store, services.logger)
        guard store.isShared else { return try await gracefulShutdown() }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await store.watchChanges { await apply($0) }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("the change feed stopped; restarting it", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Applies the changes; `false` when what had to be read again could not be (the feed gives them again).
    private func apply(_ changes: [StoreChange]) async -> Bool {
        let store = services.store
        do {
            var keysChanged = false
            for change in changes {
                switch change {
                case .everything:
                    keysChanged = true
                    services.registry.forgetTenantModels()
                    services.monitoring.replaceLoggingTenants(Set(try await store.tenantsLoggingInputs()))
                case .keys:
                    keysChanged = true
                case .tenantDeleted(let tenant):
                    keysChanged = true
                    services.registry.forget(tenant: tenant)
                    services.monitoring.retire(tenant: tenant)
                case .settings(let tenant):
                    if let record = try await store.tenant(tenant) { services.monitoring.setLogInputs(record.logInputs, tenant: tenant) }
                case .model(let tenant, let name):
                    services.registry.changedElsewhere(name, for: tenant)
                case .modelUnloaded(let tenant, let name):
                    services.registry.markUnloaded(name, for: tenant)
                case .modelLoaded(let tenant, let name):
                    services.registry.markLoaded(name, for: tenant)
                }
            }
            if keysChanged { services.keys.replaceAll(try await store.keys(of: nil)) }
            return true
        } catch {
            services.logger.warning("changes made through another replica could not be applied yet; trying again", metadata: ["error": "\(error)"])
            return false
        }
    }
}

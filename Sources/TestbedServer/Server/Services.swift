import Logging

/// Everything a route needs, built once at start.
struct Services: Sendable {
    let configuration: ServerConfiguration
    /// Held while the server runs: one server per data directory (none for replicas sharing a database).
    let lock: DataDirectoryLock?
    let store: any MetadataStore
    /// The database connection pool's background work (PostgreSQL), cancelled once the server has stopped.
    let storeRunner: Task<Void, Never>?
    let files: FileStore
    let keys: KeyRing
    let registry: ModelRegistry
    let jobs: JobService
    let monitoring: MonitoringService
    /// Requests per second per key, shared by HTTP and gRPC: a key has one budget, whichever protocol it uses.
    let limiter: RateLimiter
    let logger: Logger

    var limits: Limits { configuration.limits }
    /// Keys and the shared rate limit, as HTTP and gRPC check them.
    var access: AccessCheck { AccessCheck(keys: keys, limiter: limiter) }
}

import Logging

/// Everything a route needs, built once at start.
struct Services: Sendable {
    let configuration: ServerConfiguration
    /// Held while the server runs: one server per data directory.
    let lock: DataDirectoryLock
    let store: MetadataStore
    let files: FileStore
    let keys: KeyRing
    let registry: ModelRegistry
    let jobs: JobService
    let monitoring: MonitoringService
    let logger: Logger

    var limits: Limits { configuration.limits }
}

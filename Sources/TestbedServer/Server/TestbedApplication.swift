import Foundation
import Hummingbird
import HummingbirdCore
import InferenceCore
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Puts the server together: storage, keys, models, the job queue, the routes.
enum TestbedApplication {
    /// Opens (or creates) the data directory and everything kept in it.
    static func makeServices(_ configuration: ServerConfiguration, logger: Logger) async throws -> Services {
        // Everything the server creates is its user's alone: files 0600, directories 0700.
        umask(0o077)
        // Replicas share one storage root and a database; one server alone owns its directory.
        let shared = configuration.database != nil
        let lock = shared ? nil : try DataDirectoryLock(directory: configuration.dataDirectory)
        let files = FileStore(root: configuration.dataDirectory, shared: shared)
        try files.prepare()
        let store: any MetadataStore
        var storeRunner: Task<Void, Never>?
        if let url = configuration.database {
            let postgres = PostgresStore(url, logger: logger)
            // The pool works in the background from here until the server has stopped.
            storeRunner = Task { try? await postgres.run() }
            do {
                try await postgres.prepare(patience: configuration.databaseWait)
            } catch {
                storeRunner?.cancel()
                throw error
            }
            logger.notice("metadata in PostgreSQL", metadata: ["database": "\(url.description)"])
            store = postgres
        } else {
            store = try SQLiteStore(path: configuration.dataDirectory + "/testbed.sqlite")
        }
        let recorded = try await store.recordedFileNames()
        let orphans = files.removeUnrecorded(datasets: recorded.datasets, models: recorded.models)
        if orphans > 0 { logger.notice("removed files that no record names (a crash came between writing and recording)", metadata: ["files": "\(orphans)"]) }
        // Replicas starting together would each write a key of their own into the shared directory.
        if shared && (configuration.adminKey ?? "").isEmpty {
            throw StoreError.conflict("with --database, set TESTBED_ADMIN_KEY: replicas must all accept the same admin key, and one generated into the shared data directory could differ between replicas starting together")
        }
        let admin = try AdminKey.resolve(environment: configuration.adminKey, dataDirectory: configuration.dataDirectory)
        logger.notice("admin key ready; sign in with it at / (the dashboard) to make pilot workspaces", metadata: ["from": "\(admin.source)"])
        try await store.checkAdminKey(digest: APIKey.digest(admin.key))
        let keys = KeyRing(adminKey: admin.key, keys: try await store.keys(of: nil), shared: shared ? store : nil)
        let registry = try ModelRegistry(store: store, files: files, modelsDirectory: configuration.modelsDirectory, logger: logger)
        let jobs = JobService(store: store, files: files, registry: registry, concurrency: configuration.jobConcurrency,
                              maxJobsPerTenant: configuration.limits.maxJobsPerTenant, workers: configuration.workers, logger: logger)
        let monitoring = MonitoringService(settings: configuration.monitoring, store: store, loggingInputs: try await store.tenantsLoggingInputs(), logger: logger)
        return Services(configuration: configuration, lock: lock, store: store, storeRunner: storeRunner, files: files, keys: keys, registry: registry, jobs: jobs,
                        monitoring: monitoring, limiter: RateLimiter(rate: configuration.limits.requestsPerSecond), logger: logger)
    }

    /// Every route, behind the middleware that every request passes: request id, metrics, JSON
    /// errors, 405 for a method a path does not have; all but health, the API description and
    /// the dashboard's files also behind the key check. HEAD is answered wherever GET is.
    static func makeRouter(_ services: Services, metrics: PrometheusCollectorRegistry) throws -> Router<TestbedContext> {
        let router = Router(context: TestbedContext.self, options: .autoGenerateHeadEndpoints)
        let routes = RouteTable()
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: MethodNotAllowedMiddleware(routes: routes))

        let kserve = KServeRoutes(services: services)
        kserve.addHealth(to: router)
        let openAPI = try OpenAPIDocument.json()
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: openAPI)))
        }

        try DashboardRoutes().add(to: router)

        let secured = router.group().add(middleware: AuthMiddleware(access: services.access))
        MetricsRoute(registry: metrics).add(to: secured)
        let api = secured.group("api/v1")
        let datasets = DatasetRoutes(services: services)
        TenantRoutes(services: services).add(to: api)
        datasets.add(to: api)
        JobRoutes(services: services, datasets: datasets).add(to: api)
        CatalogRoutes().add(to: api)
        ModelRoutes(services: services).add(to: api)
        ExportRoutes(services: services).add(to: api)
        MonitoringRoutes(services: services).add(to: api)
        kserve.add(to: secured.group("v2"))
        MLflowRoutes(services: services).add(to: secured, api: api)
        try router.validate()
        routes.record(router.routes.map { ($0.method.rawValue, $0.path.description) })
        return router
    }

    /// Runs until SIGTERM or SIGINT, then lets in-flight requests and RPCs finish (HTTP and gRPC
    /// drain at the same time) and stops running jobs (marked `interrupted`).
    static func run(_ configuration: ServerConfiguration, logLevel: Logger.Level) async throws {
        let metrics = Observability.bootstrap(level: logLevel)
        let logger = Logger(label: "testbed")
        let services = try await makeServices(configuration, logger: logger)
        let router = try makeRouter(services, metrics: metrics)
        let host = configuration.host
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
        let app = Application(
            router: router,
            server: .guardedHTTP1(configuration.connections),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "testbed/\(TestbedVersion.current)",
                                 // Room in the accept queue for a burst as large as the connection limit.
                                 backlog: configuration.connections.maxConnections,
                                 availableConnectionsDelegate: MaximumAvailableConnections(configuration.connections.maxConnections)),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.notice("listening on http://\(host):\(port)", metadata: ["port": "\(port)", "data_dir": "\(configuration.dataDirectory)"])
            },
            eventLoopGroupProvider: .shared(eventLoopGroup),
            logger: logger
        )
        var listeners: [any Service] = [app]
        if let grpcPort = configuration.grpcPort {
            listeners.append(GRPCListener(host: host, port: grpcPort, services: services, eventLoopGroup: eventLoopGroup, logger: logger))
        }
        // Shut down in reverse: the listeners first (together), then monitoring, then the job queue.
        // A listener that fails (a port in use) or ends shuts the rest down gracefully too: the
        // job queue ends at a graceful shutdown, not at a cancellation. The error is thrown after.
        var configuration = ServiceGroupConfiguration(services: [
            .init(service: services.jobs),
            .init(service: ReplicaSync(services: services)),
            .init(service: services.monitoring),
            .init(service: ConcurrentServices(services: listeners), successTerminationBehavior: .gracefullyShutdownGroup,
                  failureTerminationBehavior: .gracefullyShutdownGroup),
        ], logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        defer { services.storeRunner?.cancel() }
        try await ServiceGroup(configuration: configuration).run()
        logger.info("stopped")
    }
}

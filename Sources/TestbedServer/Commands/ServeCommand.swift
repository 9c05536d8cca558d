import ArgumentParser
import Foundation
import Logging

/// `testbed serve`: the HTTP server. Every option can also be set by an environment variable.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP server: pilot API, Open Inference Protocol, metrics; and, with --grpc-port, the Open Inference Protocol over gRPC.",
        discussion: """
            gRPC (KServe's inference.GRPCInferenceService with Triton's repository RPCs, plaintext HTTP/2) is off unless \
            --grpc-port or TESTBED_GRPC_PORT is given; it listens on the same --host, takes the same keys as \
            'authorization: Bearer <key>' metadata and the same limits (docs/grpc.md).
            Each option falls back to an environment variable (TESTBED_HOST, TESTBED_PORT, TESTBED_GRPC_PORT, TESTBED_DATA_DIR, \
            TESTBED_MODELS_DIR, TESTBED_JOB_CONCURRENCY, TESTBED_EVENT_LOOPS, TESTBED_MAX_REQUEST_BYTES, TESTBED_MAX_UPLOAD_BYTES, \
            TESTBED_MAX_ROWS, TESTBED_MAX_COLUMNS, TESTBED_MAX_JOBS_PER_TENANT, TESTBED_RATE_LIMIT, TESTBED_HEADER_TIMEOUT, \
            TESTBED_IDLE_TIMEOUT, TESTBED_BODY_TIMEOUT, TESTBED_MAX_CONNECTIONS, TESTBED_WORKER_MEMORY_LIMIT, TESTBED_WORKER_TIME_LIMIT, \
            TESTBED_LOG_LEVEL, TESTBED_NO_MONITORING=1, TESTBED_DRIFT_THRESHOLD, TESTBED_DRIFT_MIN_ROWS, TESTBED_MONITORING_WINDOW_ROWS, \
            TESTBED_MONITORING_WINDOW_SECONDS, TESTBED_MONITORING_DAYS, TESTBED_LIVE_OUTCOMES). \
            The admin key is TESTBED_ADMIN_KEY, or else generated on first start into <data-dir>/admin.key.
            """
    )

    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on; 0 picks a free one and logs it (default 8080).") var port: Int?
    @Option(help: "Port for the Open Inference Protocol over gRPC; 0 picks a free one and logs it (default: no gRPC).") var grpcPort: Int?
    @Option(help: "Where datasets, models and the database are kept (default ./data).") var dataDir: String?
    @Option(help: "Demonstration models to serve read-only (default ./models).") var modelsDir: String?
    @Option(help: "PostgreSQL for the metadata instead of SQLite in the data directory: postgres://user[:password]@host[:port]/database.")
    var database: String?
    @Option(help: "Seconds a start waits for the database to answer, retrying, before it gives up (default 30).") var databaseWait: Double?
    @Option(help: "Training jobs that run at the same time (default 1).") var jobConcurrency: Int?
    @Option(help: "Threads for network I/O (default 1).") var eventLoops: Int?
    @Option(help: "Largest API request body in bytes (default 33554432).") var maxRequestBytes: Int?
    @Option(help: "Largest dataset upload in bytes (default 1073741824).") var maxUploadBytes: Int?
    @Option(help: "Most rows in one prediction request (default 100000).") var maxRows: Int?
    @Option(help: "Most columns in an upload or prediction request (default 1000).") var maxColumns: Int?
    @Option(help: "Most queued or running jobs per tenant (default 2).") var maxJobsPerTenant: Int?
    @Option(help: "Requests per second per key, 0 for no limit (default 50000).") var rateLimit: Double?
    @Option(help: "Seconds from a request's first byte to its complete header (default 10).") var headerTimeout: Double?
    @Option(help: "Seconds a kept-alive connection may wait for its next request (default 60).") var idleTimeout: Double?
    @Option(help: "Longest pause in seconds between two reads of a request body (default 30).") var bodyTimeout: Double?
    @Option(help: "Connections open at once; more wait to be accepted (default 2000).") var maxConnections: Int?
    @Option(help: "trace, debug, info, notice, warning, error or critical (default info).") var logLevel: String?
    /// For a parent that must not leave a server behind when it dies (the test suite): the
    /// server shuts down as on SIGTERM when its standard input reaches end of file.
    @Flag(help: .hidden) var stopWhenInputCloses = false
    @Option(help: "Memory each profiling or training process may allocate, as bytes or with a unit (4GiB, 512MiB); 0 for no limit (default 4GiB).")
    var workerMemoryLimit: MemorySize?
    @Option(help: "Seconds each profiling or training process may run (default: 600 to profile; the job's time budget plus the larger of itself and 600 to train).")
    var workerTimeLimit: Double?
    @Flag(help: "Turn off drift monitoring, prediction ids and the prediction log.") var noMonitoring = false
    @Option(help: "PSI at which a feature or the predictions are flagged as drifted in a window (default 0.25).") var driftThreshold: Double?
    @Option(help: "Rows a window needs before anything in it is flagged (default 200).") var driftMinRows: Int?
    @Option(help: "Rows after which a monitoring window closes (default 1000).") var monitoringWindowRows: Int?
    @Option(help: "Seconds after which a monitoring window closes (default 3600).") var monitoringWindowSeconds: Double?
    @Option(help: "Days closed monitoring windows are kept (default 30).") var monitoringDays: Int?
    @Option(help: "Latest outcomes that live metrics are measured over (default 500).") var liveOutcomes: Int?
    /// Profiling and training without worker processes, for the benchmark (see ``WorkerSettings/inProcess``).
    @Flag(help: .hidden) var workInProcess = false
    @OptionGroup var parallelism: ThreadOptions

    func run() async throws {
        parallelism.apply()
        let environment = ProcessInfo.processInfo.environment
        func setting<T: LosslessStringConvertible>(_ option: T?, _ name: String) throws -> T? {
            if let option { return option }
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = T(text) else { throw ValidationError("\(name)='\(text)' is not a valid value") }
            return value
        }
        var configuration = ServerConfiguration()
        configuration.host = try setting(host, "TESTBED_HOST") ?? configuration.host
        configuration.port = try setting(port, "TESTBED_PORT") ?? configuration.port
        configuration.grpcPort = try setting(grpcPort, "TESTBED_GRPC_PORT")
        configuration.dataDirectory = try setting(dataDir, "TESTBED_DATA_DIR") ?? configuration.dataDirectory
        configuration.modelsDirectory = try setting(modelsDir, "TESTBED_MODELS_DIR") ?? configuration.modelsDirectory
        configuration.database = try setting(database, "TESTBED_DATABASE_URL").map { try DatabaseURL(parsing: $0) }
        if let seconds = try setting(databaseWait, "TESTBED_DATABASE_WAIT") {
            guard seconds.isFinite, seconds >= 0, seconds <= 86_400 else { throw ValidationError("the database wait must be 0 to 86400 seconds; got \(seconds)") }
            configuration.databaseWait = .milliseconds(Int64(seconds * 1000))
        }
        configuration.jobConcurrency = try setting(jobConcurrency, "TESTBED_JOB_CONCURRENCY") ?? configuration.jobConcurrency
        configuration.eventLoops = try setting(eventLoops, "TESTBED_EVENT_LOOPS") ?? configuration.eventLoops
        configuration.adminKey = environment["TESTBED_ADMIN_KEY"]
        var limits = configuration.limits
        limits.maxRequestBytes = try setting(maxRequestBytes, "TESTBED_MAX_REQUEST_BYTES") ?? limits.maxRequestBytes
        limits.maxUploadBytes = try setting(maxUploadBytes, "TESTBED_MAX_UPLOAD_BYTES") ?? limits.maxUploadBytes
        limits.maxRowsPerRequest = try setting(maxRows, "TESTBED_MAX_ROWS") ?? limits.maxRowsPerRequest
        limits.maxColumns = try setting(maxColumns, "TESTBED_MAX_COLUMNS") ?? limits.maxColumns
        limits.maxJobsPerTenant = try setting(maxJobsPerTenant, "TESTBED_MAX_JOBS_PER_TENANT") ?? limits.maxJobsPerTenant
        limits.requestsPerSecond = try setting(rateLimit, "TESTBED_RATE_LIMIT") ?? limits.requestsPerSecond
        guard limits.requestsPerSecond == 0 || (limits.requestsPerSecond >= 0.001 && limits.requestsPerSecond <= 1e9) else {
            throw ValidationError("the rate limit must be 0 (no limit) or 0.001 to 1000000000 requests per second; got \(limits.requestsPerSecond)")
        }
        configuration.limits = limits
        var connections = configuration.connections
        for (option, name, keyPath) in [(headerTimeout, "TESTBED_HEADER_TIMEOUT", \ConnectionLimits.headerTimeout),
                                        (idleTimeout, "TESTBED_IDLE_TIMEOUT", \.idleTimeout), (bodyTimeout, "TESTBED_BODY_TIMEOUT", \.bodyTimeout)] {
            guard let seconds = try setting(option, name) else { continue }
            guard seconds > 0, seconds <= 86_400 else { throw ValidationError("\(name.dropFirst(8).lowercased().replacingOccurrences(of: "_", with: " ")) must be more than 0 and at most 86400 seconds; got \(seconds)") }
            connections[keyPath: keyPath] = .nanoseconds(Int64(seconds * 1e9))
        }
        connections.maxConnections = try setting(maxConnections, "TESTBED_MAX_CONNECTIONS") ?? connections.maxConnections
        guard connections.maxConnections >= 1 else { throw ValidationError("max connections must be at least 1") }
        configuration.connections = connections
        if let memory = try setting(workerMemoryLimit, "TESTBED_WORKER_MEMORY_LIMIT") {
            configuration.workers.memoryLimit = memory.bytes > 0 ? memory : nil
        }
        configuration.workers.timeLimit = try setting(workerTimeLimit, "TESTBED_WORKER_TIME_LIMIT")
        configuration.workers.inProcess = workInProcess
        if let seconds = configuration.workers.timeLimit, !(seconds.isFinite && seconds > 0) {
            throw ValidationError("the worker time limit must be a number of seconds above 0, not \(seconds)")
        }
        var monitoring = configuration.monitoring
        monitoring.enabled = !(noMonitoring || environment["TESTBED_NO_MONITORING"] == "1")
        monitoring.psiThreshold = try setting(driftThreshold, "TESTBED_DRIFT_THRESHOLD") ?? monitoring.psiThreshold
        monitoring.minRows = try setting(driftMinRows, "TESTBED_DRIFT_MIN_ROWS") ?? monitoring.minRows
        monitoring.windowRows = try setting(monitoringWindowRows, "TESTBED_MONITORING_WINDOW_ROWS") ?? monitoring.windowRows
        monitoring.windowSeconds = try setting(monitoringWindowSeconds, "TESTBED_MONITORING_WINDOW_SECONDS") ?? monitoring.windowSeconds
        monitoring.retentionDays = try setting(monitoringDays, "TESTBED_MONITORING_DAYS") ?? monitoring.retentionDays
        monitoring.liveOutcomes = try setting(liveOutcomes, "TESTBED_LIVE_OUTCOMES") ?? monitoring.liveOutcomes
        try monitoring.validate()
        configuration.monitoring = monitoring
        guard (0...65535).contains(configuration.port) else { throw ValidationError("port \(configuration.port) is not 0 to 65535") }
        if let grpcPort = configuration.grpcPort {
            guard (0...65535).contains(grpcPort) else { throw ValidationError("gRPC port \(grpcPort) is not 0 to 65535") }
            guard grpcPort == 0 || grpcPort != configuration.port else {
                throw ValidationError("the gRPC port \(grpcPort) is the HTTP port too; give them different ports (or 0 for a free one)")
            }
        }
        guard configuration.jobConcurrency >= 1 else { throw ValidationError("job concurrency must be at least 1") }
        guard configuration.eventLoops >= 1 else { throw ValidationError("event loops must be at least 1") }
        let levelName = try setting(logLevel, "TESTBED_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else {
            throw ValidationError("log level '\(levelName)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        // A write to a pipe whose reader has gone (a worker killed while it waited, a log
        // reader that ended) must fail with EPIPE, not end the server by SIGPIPE's default
        // action; NIO's sockets never raise it, pipes do. Workers get the default back.
        signal(SIGPIPE, SIG_IGN)
        if stopWhenInputCloses {
            Thread.detachNewThread {
                while !FileHandle.standardInput.availableData.isEmpty {}
                kill(getpid(), SIGTERM)
            }
        }
        try await TestbedApplication.run(configuration, logLevel: level)
    }
}

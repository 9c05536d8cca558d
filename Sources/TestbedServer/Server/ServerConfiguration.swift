/// Where the server listens, where it keeps its data, and what it accepts.
struct ServerConfiguration: Sendable {
    var host = "127.0.0.1"
    var port = 8080
    /// The Open Inference Protocol over gRPC, on the same host; `nil` leaves it off (the default,
    /// so that a second server on the machine does not collide on a fixed port), 0 picks a free port.
    var grpcPort: Int?
    var dataDirectory = "./data"
    var modelsDirectory = "./models"
    /// PostgreSQL for the metadata (`--database`); `nil` keeps it in SQLite in the data directory.
    var database: DatabaseURL?
    /// How long a start waits for the database to answer before it gives up.
    var databaseWait: Duration = .seconds(30)
    /// Threads for network I/O. Handlers run on Swift's concurrency pool, so on a small machine one
    /// I/O thread leaves the cores to them (measured: 13.6k vs 12.8k requests/s on 2 cores).
    var eventLoops = 1
    /// Training jobs run at the same time (the rest wait in the queue).
    var jobConcurrency = 1
    /// Taken from `TESTBED_ADMIN_KEY`; when `nil`, read from or created in the data directory.
    var adminKey: String?
    var limits = Limits()
    var connections = ConnectionLimits()
    /// The memory and time limits of the processes that profile uploads and train models.
    var workers = WorkerSettings()
    var monitoring = MonitoringSettings()
}

/// What one request may ask for; each limit is answered with a clear error when exceeded.
struct Limits: Sendable {
    /// JSON and CSV bodies of prediction and other API requests (413 above it).
    var maxRequestBytes = 32 << 20
    /// A dataset upload (413 above it).
    var maxUploadBytes = 1 << 30
    /// Rows in one prediction request (413 above it).
    var maxRowsPerRequest = 100_000
    /// Columns of an uploaded table or a prediction request (400 above it).
    var maxColumns = 1_000
    /// Queued and running jobs per tenant (429 above it).
    var maxJobsPerTenant = 2
    /// Requests per second per key, bursts included (429 with `Retry-After` above it; 0 = no limit).
    var requestsPerSecond = 50_000.0

    /// Refuses a batch of more rows than ``maxRowsPerRequest`` (413).
    func checkRows(_ rows: Int) throws {
        guard rows <= maxRowsPerRequest else {
            throw APIError.tooLarge("\(rows) rows in one request; this server scores at most \(maxRowsPerRequest) per request (--max-rows); split the batch")
        }
    }
}

import Foundation
import InferenceCore
import Logging
import Metrics
import NIOPosix
import ServiceLifecycle

/// The training queue, run as a service of its own: jobs run in the order they were created,
/// `concurrency` at a time per server, each in a training process of its own (``WorkerLauncher``)
/// watched from a thread of this service, never from the event loop. A training process that
/// traps, runs out of memory or past its time limit fails its job, not the server.
///
/// The queue is the database: a server claims the oldest queued job with a lease that it renews
/// while the job runs, so replicas sharing a database never run a job twice, and a job whose
/// server died is marked `interrupted` by whichever server sees its lease end, never left
/// looking alive. A cancel reaches the server running the job when it renews the lease (at
/// once when it is this one). On shutdown the running jobs' processes are stopped and the jobs
/// marked `interrupted`; queued jobs stay queued for the next start or another replica.
actor JobService: Service {
    private let store: any MetadataStore
    private let files: FileStore
    private let registry: ModelRegistry
    private let concurrency: Int
    private let maxJobsPerTenant: Int
    private let logger: Logger
    private let workers: WorkerLauncher
    /// One thread per running job, to wait for its training process.
    private let threads: NIOThreadPool
    /// This server among the replicas: the owner its leases name.
    let owner: String
    /// How long a claim holds without renewal; renewed every third of it.
    let leaseSeconds: Double
    private var running: [String: JobProgressReporter] = [:]
    private let doorbell = Doorbell()
    /// Rung at shutdown, so that the lease keeper does not sleep through it.
    private let leaseTimer = Doorbell()
    private var stopping = false
    private let queueLength = Gauge(label: "testbed_job_queue_length")

    init(store: any MetadataStore, files: FileStore, registry: ModelRegistry, concurrency: Int, maxJobsPerTenant: Int,
         workers: WorkerSettings, logger: Logger, leaseSeconds: Double = 15) {
        self.store = store
        self.files = files
        self.registry = registry
        self.concurrency = max(1, concurrency)
        self.maxJobsPerTenant = maxJobsPerTenant
        self.logger = logger
        self.workers = WorkerLauncher(settings: workers)
        self.threads = NIOThreadPool(numberOfThreads: max(1, concurrency))
        self.owner = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
        self.leaseSeconds = leaseSeconds
    }

    func run() async throws {
        try await recover()
        threads.start()
        await withGracefulShutdownHandler {
            // Discarding: a plain task group keeps every finished child (its task and its
            // allocations) until someone awaits it, and this loop never does; a soak of
            // train-and-delete rounds grew by the jobs it had run.
            await withDiscardingTaskGroup { group in
                group.addTask { await self.keepLeases() }
                while let job = await self.nextJob() {
                    group.addTask { await self.execute(job) }
                }
            }
        } onGracefulShutdown: {
            Task { await self.beginShutdown() }
        }
        try await threads.shutdownGracefully()
        logger.info("job queue stopped")
    }

    /// Stores a new job and queues it; refused when the tenant already has its limit of jobs.
    func submit(_ job: JobRecord) async throws {
        try await store.submitJob(job, activeLimit: maxJobsPerTenant)
        logger.info("job queued", metadata: ["job": "\(job.id)", "tenant": "\(job.tenantId)"])
        await doorbell.ring()
    }

    /// Cancels a queued job at once, or stops a running one's training process (this server's
    /// at once, another replica's when it next renews its lease).
    func cancel(_ jobID: String, tenant: String) async throws -> JobRecord {
        let job = try await store.cancelJob(jobID, of: tenant)
        if job.state == .cancelled {
            Counter(label: "testbed_jobs_total", dimensions: [("outcome", "cancelled")]).increment()
        }
        running[jobID]?.stop(.cancelled)
        return job
    }

    private func recover() async throws {
        let interrupted = try await store.recoverJobs()
        queueLength.record(try await store.queuedJobCount())
        if interrupted > 0 { logger.info("jobs found running without a server marked interrupted", metadata: ["jobs": "\(interrupted)"]) }
    }

    private func beginShutdown() async {
        stopping = true
        for reporter in running.values { reporter.stop(.interrupted) }
        await doorbell.ring()
        await leaseTimer.ring()
    }

    /// Waits for a free slot and claims the oldest queued job; `nil` once the service is
    /// stopping. Jobs queued through another replica are found by asking every second.
    private func nextJob() async -> JobRecord? {
        while true {
            if stopping { return nil }
            if running.count < concurrency {
                do {
                    if let job = try await store.claimJob(owner: owner, leaseSeconds: leaseSeconds) {
                        guard !stopping else {
                            // Claimed as the shutdown began: handed back as interrupted, not left running.
                            _ = try? await store.finishJob(job.id, JobOutcome(.interrupted), owner: owner)
                            return nil
                        }
                        running[job.id] = JobProgressReporter(jobID: job.id, store: store)
                        return job
                    }
                } catch {
                    logger.warning("the job queue cannot be read; retrying", metadata: ["error": "\(error)"])
                }
            }
            await doorbell.wait(upTo: .seconds(store.isShared ? 1 : 10))
        }
    }

    /// Renews the leases of this server's running jobs, stops those cancelled through another
    /// replica or taken from it, and marks jobs whose server stopped renewing interrupted.
    private func keepLeases() async {
        while !stopping {
            for (id, reporter) in running {
                switch try? await store.renewLease(of: id, owner: owner, leaseSeconds: leaseSeconds) {
                case .held(cancelRequested: true): reporter.stop(.cancelled)
                case .lost: reporter.stop(.interrupted)
                case .held(cancelRequested: false), nil: break
                }
            }
            if let ended = try? await store.expireLeases(), !ended.isEmpty {
                logger.notice("jobs whose server stopped renewing their lease marked interrupted", metadata: ["jobs": "\(ended.joined(separator: ","))"])
            }
            if let queued = try? await store.queuedJobCount() { queueLength.record(queued) }
            await leaseTimer.wait(upTo: .seconds(leaseSeconds / 3))
        }
    }

    private func finished(_ id: String) async {
        running[id] = nil
        await doorbell.ring()
    }

    private func execute(_ claimed: JobRecord) async {
        let id = claimed.id
        let reporter = running[id]!
        let began = Date()
        do {
            let outcome = await train(claimed, reporter: reporter)
            let job = try await store.finishJob(id, outcome, owner: owner)
            let seconds = Date().timeIntervalSince(began)
            Counter(label: "testbed_jobs_total", dimensions: [("outcome", job.state.rawValue)]).increment()
            Metrics.Timer(label: "testbed_job_duration_seconds", dimensions: [("outcome", job.state.rawValue)], preferredDisplayUnit: .seconds)
                .recordSeconds(seconds)
            logger.info("job finished", metadata: ["job": "\(id)", "state": "\(job.state.rawValue)", "seconds": "\(String(format: "%.2f", seconds))"])
        } catch {
            logger.error("job bookkeeping failed", metadata: ["job": "\(id)", "error": "\(error)"])
        }
        await finished(id)
    }

    private func train(_ job: JobRecord, reporter: JobProgressReporter) async -> JobOutcome {
        do {
            guard let dataset = try await store.dataset(job.datasetId, of: nil) else {
                return JobOutcome(state: .failed, message: "failed", error: "the dataset \(job.datasetId) was deleted before the job started")
            }
            var request = TrainingRequest(job, datasetPath: files.datasetPath(dataset.fileName), dataset: dataset)
            // The version serving now is the one a new version is compared with.
            if let serving = try? await registry.find(job.modelName, for: job.tenantId), !serving.isDemonstration {
                request.baseline = .init(version: serving.version, algorithm: serving.model.algorithm, parameters: serving.model.parameters,
                                         members: serving.model.ensemble?.members.map { .init(algorithm: $0.algorithm, parameters: $0.parameters, weight: $0.weight) })
            }
            let result = try await workers.run(.train, request: request, timeLimit: workers.settings.trainingTimeLimit(budget: job.timeBudgetSeconds),
                                               on: threads, as: TrainingResult.self, started: reporter.attach,
                                               progress: { try reporter.report($0.step) })
            if let stop = reporter.stopReason { return JobOutcome(stop) }
            let model = result.model
            // A job whose lease ended meanwhile (this server lost the database longer than the
            // lease) was marked interrupted elsewhere: its model is not registered.
            if try await store.renewLease(of: job.id, owner: owner, leaseSeconds: leaseSeconds) == .lost { return JobOutcome(.interrupted) }
            let (served, serves) = try await registry.register(model, name: job.modelName, tenant: job.tenantId, datasetID: dataset.id, jobID: job.id,
                                                               promote: job.promote, comparison: try result.comparison.map { try JSONEncoder().encode($0) })
            let leaderboard = try model.training.leaderboard.map { try JSONEncoder().encode($0) }
            let message = served.version == 1 ? "model '\(job.modelName)' is ready"
                : "version \(served.version) of '\(job.modelName)' is ready\(serves ? " and serving" : "; the serving version stays until you promote this one")"
            return JobOutcome(state: .succeeded, message: message, leaderboard: leaderboard, version: served.version)
        } catch {
            // A stopped process ends in an error of its own; the stop is what happened.
            if let stop = reporter.stopReason { return JobOutcome(stop) }
            // Deleted while the job ran: the worker's error names a file the client never saw.
            let datasetExists = try? await store.dataset(job.datasetId, of: nil) != nil
            if datasetExists == false {
                return JobOutcome(state: .failed, message: "failed", error: "the dataset \(job.datasetId) was deleted while the job ran")
            }
            if let failure = error as? WorkerFailure {
                logger.warning("training process failed", metadata: ["job": "\(job.id)", "cause": "\(failure.cause)", "stderr": "\(failure.detail)"])
                return JobOutcome(state: .failed, message: "failed", error: failure.message)
            }
            let reason = APIError(error, requestID: job.id).message
            return JobOutcome(state: .failed, message: "failed", error: reason)
        }
    }
}

extension JobOutcome {
    init(_ stop: JobStop) {
        switch stop {
        case .cancelled:
            self.init(state: .cancelled, message: "cancelled while training; no model was registered")
        case .interrupted:
            self.init(state: .interrupted, message: "the server shut down while this job ran; create a new job to train again")
        }
    }
}

extension TrainingRequest {
    /// What the training process needs to train `job` on `dataset`, stored at `datasetPath`.
    init(_ job: JobRecord, datasetPath: String, dataset: DatasetRecord) {
        self.init(datasetPath: datasetPath, sourceName: dataset.name, sourceSHA256: dataset.sha256, target: job.target,
                  task: job.task, algorithm: job.algorithm, folds: job.folds, seed: job.seed, split: job.splitRequest,
                  coverage: job.coverage, timeBudgetSeconds: job.timeBudgetSeconds)
    }
}

import Foundation
import InferenceCore
import Logging
import Metrics
import NIOPosix
import ServiceLifecycle

/// The training queue, run as a service of its own: jobs wait in the order they were created
/// and run `concurrency` at a time, each in a training process of its own (``WorkerLauncher``)
/// watched from a thread of this service, never from the event loop. A training process that
/// traps, runs out of memory or past its time limit fails its job, not the server.
///
/// Every state change is written to the database before it is acted on. On shutdown the
/// running jobs' processes are stopped and the jobs marked `interrupted`; queued jobs stay queued
/// and run after the next start. A job found `running` at start (the server died) is marked
/// `interrupted` as well: never left looking alive.
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
    private var waiting: [String] = []
    private var running: [String: JobProgressReporter] = [:]
    private var wakeup: CheckedContinuation<Void, Never>?
    private var stopping = false
    private let queueLength = Gauge(label: "testbed_job_queue_length")

    init(store: any MetadataStore, files: FileStore, registry: ModelRegistry, concurrency: Int, maxJobsPerTenant: Int,
         workers: WorkerSettings, logger: Logger) {
        self.store = store
        self.files = files
        self.registry = registry
        self.concurrency = max(1, concurrency)
        self.maxJobsPerTenant = maxJobsPerTenant
        self.logger = logger
        self.workers = WorkerLauncher(settings: workers)
        self.threads = NIOThreadPool(numberOfThreads: max(1, concurrency))
    }

    func run() async throws {
        try await recover()
        threads.start()
        await withGracefulShutdownHandler {
            // Discarding: a plain task group keeps every finished child (its task and its
            // allocations) until someone awaits it, and this loop never does; a soak of
            // train-and-delete rounds grew by the jobs it had run.
            await withDiscardingTaskGroup { group in
                while let id = await self.nextJob() {
                    group.addTask { await self.execute(id) }
                }
            }
        } onGracefulShutdown: {
            Task { await self.beginShutdown() }
        }
        try await threads.shutdownGracefully()
        logger.info("job queue stopped", metadata: ["queued": "\(waiting.count)"])
    }

    /// Stores a new job and queues it; refused when the tenant already has its limit of jobs.
    func submit(_ job: JobRecord) async throws {
        try await store.submitJob(job, activeLimit: maxJobsPerTenant)
        waiting.append(job.id)
        queueLength.record(waiting.count)
        logger.info("job queued", metadata: ["job": "\(job.id)", "tenant": "\(job.tenantId)"])
        signal()
    }

    /// Cancels a queued job at once, or stops a running one's training process.
    func cancel(_ jobID: String, tenant: String) async throws -> JobRecord {
        let job = try await store.cancelJob(jobID, of: tenant)
        if job.state == .cancelled {
            waiting.removeAll { $0 == jobID }
            queueLength.record(waiting.count)
            Counter(label: "testbed_jobs_total", dimensions: [("outcome", "cancelled")]).increment()
        }
        running[jobID]?.stop(.cancelled)
        return job
    }

    private func recover() async throws {
        let (queued, stale) = try await store.recoverJobs()
        waiting = queued
        queueLength.record(waiting.count)
        if stale > 0 || !queued.isEmpty {
            logger.info("jobs recovered", metadata: ["requeued": "\(queued.count)", "marked_interrupted": "\(stale)"])
        }
    }

    private func beginShutdown() {
        stopping = true
        for reporter in running.values { reporter.stop(.interrupted) }
        signal()
    }

    /// Waits for a free slot and a queued job; `nil` once the service is stopping.
    private func nextJob() async -> String? {
        while true {
            if stopping { return nil }
            if running.count < concurrency, !waiting.isEmpty {
                let id = waiting.removeFirst()
                queueLength.record(waiting.count)
                running[id] = JobProgressReporter(jobID: id, store: store)
                return id
            }
            await withCheckedContinuation { wakeup = $0 }
        }
    }

    private func signal() {
        wakeup?.resume()
        wakeup = nil
    }

    private func finished(_ id: String) {
        running[id] = nil
        signal()
    }

    private func execute(_ id: String) async {
        let reporter = running[id]!
        defer { finished(id) }
        let began = Date()
        do {
            guard var job = try await start(id) else { return }
            let outcome = await train(job, reporter: reporter)
            job = try await store.finishJob(id, outcome)
            let seconds = Date().timeIntervalSince(began)
            Counter(label: "testbed_jobs_total", dimensions: [("outcome", job.state.rawValue)]).increment()
            Metrics.Timer(label: "testbed_job_duration_seconds", dimensions: [("outcome", job.state.rawValue)], preferredDisplayUnit: .seconds)
                .recordSeconds(seconds)
            logger.info("job finished", metadata: ["job": "\(id)", "state": "\(job.state.rawValue)", "seconds": "\(String(format: "%.2f", seconds))"])
        } catch {
            logger.error("job bookkeeping failed", metadata: ["job": "\(id)", "error": "\(error)"])
        }
    }

    /// Marks a queued job running; `nil` when it was cancelled while it waited.
    private func start(_ id: String) async throws -> JobRecord? {
        try await store.startJob(id)
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

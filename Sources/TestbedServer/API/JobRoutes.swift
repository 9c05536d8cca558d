import Foundation
import Hummingbird
import InferenceCore

/// `/api/v1/jobs`: training runs on a tenant's datasets.
struct JobRoutes {
    let services: Services
    let datasets: DatasetRoutes

    struct CreateJob: Decodable {
        /// One algorithm, `auto`, or several to search among.
        enum Algorithms: Decodable {
            case one(String)
            case several([String])
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let name = try? container.decode(String.self) { self = .one(name) } else { self = .several(try container.decode([String].self)) }
            }
            var names: [String] {
                switch self {
                case .one(let name): return [name]
                case .several(let names): return names
                }
            }
        }
        var dataset: String
        var target: String
        var task: String?
        var algorithms: Algorithms?
        var folds: Int?
        var seed: Int?
        var timeBudgetSeconds: Double?
        var modelName: String?
        /// `random`, `time` or `group`; inferred from the dataset when left out.
        var split: String?
        var timeColumn: String?
        var groupColumn: String?
        var gap: Int?
        var coverage: Double?
        /// With an existing `model_name`: make the new version serve as soon as it is trained.
        var promote: Bool?
        enum CodingKeys: String, CodingKey {
            case dataset, target, task, algorithms, folds, seed, split, gap, coverage, promote
            case timeBudgetSeconds = "time_budget_seconds"
            case modelName = "model_name"
            case timeColumn = "time_column"
            case groupColumn = "group_column"
        }
    }

    struct JobView: ResponseEncodable, Decodable {
        var id: String
        var dataset: String
        var target: String
        var task: String?
        var algorithms: [String]
        var folds: Int
        var seed: Int
        /// The requested split (`nil`: inferred when the job runs; the model card says which and why).
        var split: SplitScheme?
        var timeColumn: String?
        var groupColumn: String?
        var gap: Int
        var coverage: Double
        var timeBudgetSeconds: Double
        var modelName: String
        var promote: Bool
        var state: String
        var progress: Double
        var message: String
        /// Finished candidates (in the order they finished while running; best first once done).
        var leaderboard: [LeaderboardEntry]
        var error: String?
        /// The registered model and its version, once the job succeeded.
        var model: String?
        var modelVersion: Int?
        var createdAt: Date
        var startedAt: Date?
        var finishedAt: Date?
        enum CodingKeys: String, CodingKey {
            case id, dataset, target, task, algorithms, folds, seed, state, progress, message, leaderboard, error, model, promote
            case modelVersion = "model_version"
            case split, gap, coverage
            case timeColumn = "time_column"
            case groupColumn = "group_column"
            case timeBudgetSeconds = "time_budget_seconds"
            case modelName = "model_name"
            case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
        }

        init(_ job: JobRecord) {
            (id, dataset, target, task, folds, seed) = (job.id, job.datasetId, job.target, job.task?.rawValue, job.folds, job.seed)
            (split, timeColumn, groupColumn, gap, coverage) = (job.split, job.timeColumn, job.groupColumn, job.gap, job.coverage)
            algorithms = job.algorithm.names
            (timeBudgetSeconds, modelName, state, progress, message) = (job.timeBudgetSeconds, job.modelName, job.state.rawValue, job.progress, job.message)
            leaderboard = job.leaderboard.flatMap { try? JSONDecoder().decode([LeaderboardEntry].self, from: $0) } ?? []
            error = job.error
            model = job.state == .succeeded ? job.modelName : nil
            (promote, modelVersion) = (job.promote, job.modelVersion)
            (createdAt, startedAt, finishedAt) = (job.createdAt, job.startedAt, job.finishedAt)
        }
    }

    func add(to router: RouterGroup<TestbedContext>) {
        router.post("jobs") { request, context -> Created<JobView> in
            let tenant = try context.tenant()
            let body = try await request.decodeJSON(CreateJob.self, limit: services.limits.maxRequestBytes,
                                                    expected: #"{"dataset": "<id>", "target": "<column>"}"#)
            let job = try await validate(body, tenant: tenant)
            try await services.jobs.submit(job)
            return Created(status: .accepted, body: JobView(job))
        }
        router.get("jobs") { _, context -> [JobView] in
            let tenant = try context.tenant()
            return try await services.store.jobs(of: tenant).map(JobView.init)
        }
        router.get("jobs/{id}") { _, context -> JobView in
            let (tenant, id) = (try context.tenant(), try context.parameters.require("id"))
            guard let job = try await services.store.job(id, of: tenant) else { throw StoreError.notFound(.job(id)) }
            return JobView(job)
        }
        router.post("models/{name}/retrain") { request, context -> Created<JobView> in
            let (tenant, name) = (try context.tenant(), try context.parameters.require("name"))
            let body = try await request.decodeJSON(Retrain.self, limit: services.limits.maxRequestBytes,
                                                    expected: #"{"dataset": "<id of the newer upload>", "promote": false}"#)
            let job = try await validate(try await retraining(name, body, tenant: tenant), tenant: tenant)
            try await services.jobs.submit(job)
            return Created(status: .accepted, body: JobView(job))
        }
        router.post("jobs/{id}/cancel") { _, context -> Created<JobView> in
            let job = try await services.jobs.cancel(try context.parameters.require("id"), tenant: try context.tenant())
            return Created(status: .accepted, body: JobView(job))
        }
    }

    /// `POST /api/v1/models/{name}/retrain`: the serving version's job again, on another upload.
    struct Retrain: Decodable {
        var dataset: String
        var promote: Bool?
    }

    /// The job that trained `name`'s serving version, with `dataset` instead of its own: the
    /// same target, algorithms, folds, seed, split and coverage; it adds the next version.
    private func retraining(_ name: String, _ body: Retrain, tenant: String) async throws -> CreateJob {
        let served = try await services.registry.find(name, for: tenant)
        guard let record = served.record else {
            throw APIError.forbidden("'\(name.clipped())' is a demonstration model; demonstration models are read-only (train your own from its data)")
        }
        guard let jobID = record.jobId, let job = try await services.store.job(jobID, of: nil) else {
            throw APIError.conflict("version \(served.version) of '\(name.clipped())' has no training job on record to repeat; create a job with model_name '\(name.clipped())' instead")
        }
        // The serving version's task, not the one the new upload would suggest.
        return CreateJob(dataset: body.dataset, target: job.target, task: served.model.task.rawValue, algorithms: .several(job.algorithm.names),
                         folds: job.folds, seed: job.seed, timeBudgetSeconds: job.timeBudgetSeconds, modelName: name, split: job.split?.rawValue,
                         timeColumn: job.timeColumn, groupColumn: job.groupColumn, gap: job.gap, coverage: job.coverage, promote: body.promote)
    }

    /// Checks everything that can be checked before queueing, so that a mistake is answered at
    /// once with a 4xx instead of a job that fails later.
    private func validate(_ body: CreateJob, tenant: String) async throws -> JobRecord {
        let dataset = try await datasets.find(body.dataset, tenant: tenant)
        let profile = try JSONDecoder().decode(DatasetProfile.self, from: dataset.profile)
        try APIError.unprocessable {
            guard profile.columns.contains(where: { $0.name == body.target }) else {
                throw TestbedError(.unknownColumn, "the dataset has no column '\(body.target.clipped())'; its columns are: \(profile.columns.map { "'\($0.name)'" }.joined(separator: ", "))")
            }
        }
        let task = try body.task.map { text -> LearningTask in
            guard let task = LearningTask(rawValue: text) else {
                throw APIError.badRequest("task '\(text.clipped())' is not known; expected 'regression' or 'classification' (or leave it out to infer it from the target)", code: "invalid_parameter")
            }
            return task
        }
        let algorithm = try AlgorithmChoice(names: body.algorithms?.names ?? ["auto"])
        let folds = body.folds ?? 5
        guard (2...20).contains(folds) else { throw APIError.badRequest("folds == \(folds); expected 2 to 20", code: "invalid_parameter") }
        let split = try body.split.map { text -> SplitScheme in
            guard let scheme = SplitScheme(rawValue: text) else {
                throw APIError.badRequest("split '\(text.clipped())' is not known; expected 'random', 'time' or 'group' (or leave it out to infer it from the dataset)", code: "invalid_parameter")
            }
            return scheme
        }
        let request = SplitRequest(scheme: split, timeColumn: body.timeColumn, groupColumn: body.groupColumn, gap: body.gap ?? 0)
        guard request.gap >= 0 else {
            throw APIError.badRequest("gap == \(request.gap), must be >= 0 (rows left out between training and test in time order)", code: "invalid_parameter")
        }
        // The split's columns and gap against this dataset (and each other).
        try APIError.unprocessable { try Self.checkSplit(request, folds: folds, profile: profile, target: body.target) }
        let coverage = body.coverage ?? ConformalCalibration.defaultCoverage
        try ConformalCalibration.validate(coverage: coverage)
        let seed = body.seed ?? 0
        guard seed >= 0 else { throw APIError.badRequest("seed == \(seed); expected a number >= 0", code: "invalid_parameter") }
        let budget = body.timeBudgetSeconds ?? 300
        guard budget.isFinite, budget > 0, budget <= 86_400 else {
            throw APIError.badRequest("time_budget_seconds == \(budget); expected more than 0 and at most 86400", code: "invalid_parameter")
        }
        let modelName = try await modelName(body.modelName, dataset: dataset, target: body.target, task: task, tenant: tenant)
        return JobRecord(id: UUID().uuidString.lowercased(), tenantId: tenant, datasetId: dataset.id, target: body.target, task: task,
                         algorithm: algorithm, folds: folds, seed: seed, split: split, timeColumn: request.timeColumn,
                         groupColumn: request.groupColumn, gap: request.gap, coverage: coverage, timeBudgetSeconds: budget,
                         modelName: modelName, promote: body.promote ?? false, state: .queued, progress: 0, message: "waiting for a free training slot",
                         leaderboard: nil, error: nil, createdAt: Date(), startedAt: nil, finishedAt: nil)
    }

    /// Checks a split against the dataset's profile before the job is queued: the named columns
    /// exist and suit the scheme, a time column holds times (or numbers), a group column has at
    /// least as many groups as folds, the gap is not negative and leaves training rows.
    static func checkSplit(_ request: SplitRequest, folds: Int, profile: DatasetProfile, target: String) throws {
        func column(_ name: String, as role: String) throws -> DatasetProfile.ColumnProfile {
            guard let column = profile.columns.first(where: { $0.name == name }) else {
                throw TestbedError(.unknownColumn, "the dataset has no column '\(name.clipped())' for \(role); its columns are: \(profile.columns.map { "'\($0.name)'" }.joined(separator: ", "))")
            }
            guard name != target else { throw TestbedError(.invalidParameter, "'\(name.clipped())' is the target; \(role) must be another column") }
            return column
        }
        guard request.gap >= 0 else {
            throw TestbedError(.invalidParameter, "gap == \(request.gap), must be >= 0 (rows left out between training and test in time order)")
        }
        if let name = request.timeColumn {
            let time = try column(name, as: "time_column")
            guard time.kind == .timestamp || time.kind == .numeric else {
                throw TestbedError(.invalidParameter, "the time column '\(name.clipped())' cannot be read as times (it is \(time.kind.rawValue)); expected dates or date-times such as 2026-01-05 13:45:00 or 05.01.2026, or numbers")
            }
        }
        if let name = request.groupColumn {
            let group = try column(name, as: "group_column")
            let groups = group.distinctCount + (group.missingCount > 0 ? 1 : 0)
            guard groups >= folds else {
                throw TestbedError(.invalidParameter, "the group column '\(name.clipped())' has \(groups == 1 ? "a single group" : "\(groups) groups"); a group split with \(folds) folds needs at least \(folds) (every group is tested by a model that never saw it)")
            }
        }
        if request.scheme == .group && request.groupColumn == nil {
            throw TestbedError(.invalidParameter, "split 'group' needs group_column, the column that names each row's group")
        }
        let timestamps = profile.columns.filter { $0.kind == .timestamp && $0.name != target }.map(\.name)
        if request.scheme == .time && request.timeColumn == nil && timestamps.count != 1 {
            throw TestbedError(.invalidParameter, "split 'time' needs time_column: the dataset does not have exactly one timestamp column")
        }
        // The scheme the training run will come to (the core's rule), to check what depends on it now.
        let scheme = ValidationPlan.scheme(for: request, timestampColumns: timestamps)
        try ValidationPlan.checkColumns(request, scheme: scheme)
        guard scheme == .time else {
            if request.gap > 0 { throw TestbedError(.invalidParameter, "gap == \(request.gap) applies to time splits only, and this split is \(scheme.rawValue)") }
            return
        }
        // Rows without a target or a time are in no fold, so the rows split are at most these;
        // refused is a gap that leaves the first fold fewer than 2 training rows for any count up
        // to it (the training run checks the exact count).
        let rows = profile.rows - (profile.columns.first { $0.name == target }?.missingCount ?? 0)
        let mostTraining = stride(from: rows, through: folds + 1, by: -1).prefix(folds + 1).map { $0 - folds * ($0 / (folds + 1)) }.max() ?? 0
        guard mostTraining - request.gap >= 2 else {
            throw TestbedError(.invalidParameter, "gap == \(request.gap) with \(folds) time-ordered folds over \(rows) rows leaves the first fold without training rows; use a gap below \(max(mostTraining - 1, 0)) or fewer folds")
        }
    }

    /// The requested model name (a new name, or an existing model's: its next version), or
    /// `<dataset>-<target>` made unique among the names in use.
    private func modelName(_ requested: String?, dataset: DatasetRecord, target: String, task: LearningTask?, tenant: String) async throws -> String {
        let registry = services.registry
        if let requested {
            try ResourceName.validate(requested, of: "model")
            guard !registry.isDemonstration(requested) else {
                throw APIError.conflict("'\(requested.clipped())' is a demonstration model; demonstration models are read-only, so choose another model_name")
            }
            // A new version predicts what the serving one does (the task, if inferred, is checked when it is registered).
            if let serving = try? await registry.find(requested, for: tenant), serving.model.target != target || task.map({ $0 != serving.model.task }) == true {
                throw APIError.conflict("version \(serving.version) of '\(requested.clipped())' predicts '\(serving.model.target.clipped())' (\(serving.model.task.rawValue)); a new version must too; choose another model_name")
            }
            return requested
        }
        // Jobs still queued or running have claimed their names too.
        let taken = try await services.store.modelNamesInUse(by: tenant).union(registry.demonstrationNames)
        let base = String("\(dataset.name)-\(target)".map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" }.prefix(56))
        var name = base, suffix = 2
        while taken.contains(name) { name = "\(base)-\(suffix)"; suffix += 1 }
        return name
    }
}

import Foundation
import GRDB
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
        enum CodingKeys: String, CodingKey {
            case dataset, target, task, algorithms, folds, seed
            case timeBudgetSeconds = "time_budget_seconds"
            case modelName = "model_name"
        }
    }

    struct JobView: ResponseEncodable {
        var id: String
        var dataset: String
        var target: String
        var task: String?
        var algorithms: [String]
        var folds: Int
        var seed: Int
        var timeBudgetSeconds: Double
        var modelName: String
        var state: String
        var progress: Double
        var message: String
        /// Finished candidates (in the order they finished while running; best first once done).
        var leaderboard: [LeaderboardEntry]
        var error: String?
        /// The registered model, once the job succeeded.
        var model: String?
        var createdAt: Date
        var startedAt: Date?
        var finishedAt: Date?
        enum CodingKeys: String, CodingKey {
            case id, dataset, target, task, algorithms, folds, seed, state, progress, message, leaderboard, error, model
            case timeBudgetSeconds = "time_budget_seconds"
            case modelName = "model_name"
            case createdAt = "created_at", startedAt = "started_at", finishedAt = "finished_at"
        }

        init(_ job: JobRecord) {
            (id, dataset, target, task, folds, seed) = (job.id, job.datasetId, job.target, job.task, job.folds, job.seed)
            algorithms = job.algorithm.split(separator: ",").map(String.init)
            (timeBudgetSeconds, modelName, state, progress, message) = (job.timeBudgetSeconds, job.modelName, job.state.rawValue, job.progress, job.message)
            leaderboard = job.leaderboard.flatMap { try? JSONDecoder().decode([LeaderboardEntry].self, from: $0) } ?? []
            error = job.error
            model = job.state == .succeeded ? job.modelName : nil
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
            return try await services.store.pool.read { db in
                try JobRecord.filter(Column("tenantId") == tenant).order(Column("createdAt").desc).fetchAll(db)
            }.map(JobView.init)
        }
        router.get("jobs/{id}") { _, context -> JobView in
            let (tenant, id) = (try context.tenant(), try context.parameters.require("id"))
            guard let job = try await services.store.pool.read({ db in
                try JobRecord.filter(key: id).filter(Column("tenantId") == tenant).fetchOne(db)
            }) else { throw APIError.notFound("there is no job '\(id.clipped())'; GET /api/v1/jobs lists yours") }
            return JobView(job)
        }
        router.get("algorithms") { _, _ -> [AlgorithmView] in
            AlgorithmRegistry.all.map { AlgorithmView(name: $0.name, tasks: Task.allCases.filter($0.tasks.contains).map(\.rawValue)) }
        }
        router.post("jobs/{id}/cancel") { _, context -> Created<JobView> in
            let job = try await services.jobs.cancel(try context.parameters.require("id"), tenant: try context.tenant())
            return Created(status: .accepted, body: JobView(job))
        }
    }

    /// A line of `GET /api/v1/algorithms`: what `algorithms` of a job may name.
    struct AlgorithmView: ResponseEncodable {
        var name: String
        var tasks: [String]
    }

    /// Checks everything that can be checked before queueing, so that a mistake is answered at
    /// once with a 4xx instead of a job that fails later.
    private func validate(_ body: CreateJob, tenant: String) async throws -> JobRecord {
        let dataset = try await datasets.find(body.dataset, tenant: tenant)
        let profile = try JSONDecoder().decode(DatasetProfile.self, from: dataset.profile)
        guard profile.columns.contains(where: { $0.name == body.target }) else {
            throw TestbedError(.unknownColumn, "the dataset has no column '\(body.target.clipped())'; its columns are: \(profile.columns.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        if let task = body.task, Task(rawValue: task) == nil {
            throw APIError.badRequest("task '\(task.clipped())' is not known; expected 'regression' or 'classification' (or leave it out to infer it from the target)", code: "invalid_parameter")
        }
        let algorithms = body.algorithms?.names ?? ["auto"]
        let known = AlgorithmRegistry.all.map(\.name)
        guard !algorithms.isEmpty, algorithms.allSatisfy({ known.contains($0) }) || algorithms == ["auto"] else {
            throw APIError.badRequest("algorithms \(algorithms) are not all known; expected \"auto\", one of \(known.joined(separator: ", ")), or a list of them", code: "unknown_algorithm")
        }
        let folds = body.folds ?? 5
        guard (2...20).contains(folds) else { throw APIError.badRequest("folds == \(folds); expected 2 to 20", code: "invalid_parameter") }
        let seed = body.seed ?? 0
        guard seed >= 0 else { throw APIError.badRequest("seed == \(seed); expected a number >= 0", code: "invalid_parameter") }
        let budget = body.timeBudgetSeconds ?? 300
        guard budget.isFinite, budget > 0, budget <= 86_400 else {
            throw APIError.badRequest("time_budget_seconds == \(budget); expected more than 0 and at most 86400", code: "invalid_parameter")
        }
        let modelName = try await modelName(body.modelName, dataset: dataset, target: body.target, tenant: tenant)
        return JobRecord(id: UUID().uuidString.lowercased(), tenantId: tenant, datasetId: dataset.id, target: body.target, task: body.task,
                         algorithm: algorithms.joined(separator: ","), folds: folds, seed: seed, timeBudgetSeconds: budget,
                         modelName: modelName, state: .queued, progress: 0, message: "waiting for a free training slot",
                         leaderboard: nil, error: nil, createdAt: Date(), startedAt: nil, finishedAt: nil)
    }

    /// The requested model name, checked to be free, or `<dataset>-<target>` made unique.
    private func modelName(_ requested: String?, dataset: DatasetRecord, target: String, tenant: String) async throws -> String {
        let registry = services.registry
        return try await services.store.pool.read { db in
            // Jobs still queued or running have claimed their names too.
            let claimed = Set(try JobRecord.filter(Column("tenantId") == tenant && ["queued", "running"].contains(Column("state")))
                .fetchAll(db).map(\.modelName))
            func taken(_ name: String) throws -> Bool { try claimed.contains(name) || registry.isNameTaken(name, by: tenant, in: db) }
            if let requested {
                try ResourceName.validate(requested, of: "model")
                guard try !taken(requested) else {
                    throw APIError.conflict("a model named '\(requested.clipped())' already exists or is being trained; choose another model_name")
                }
                return requested
            }
            let base = String("\(dataset.name)-\(target)".map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" }.prefix(56))
            var name = base, suffix = 2
            while try taken(name) { name = "\(base)-\(suffix)"; suffix += 1 }
            return name
        }
    }
}

import Foundation

// How records change, the same whichever database keeps them.

extension JobRecord {
    /// A queued job is cancelled at once; a running one only says that it is being stopped
    /// (its runner stops it and records how it ended).
    mutating func cancel() throws {
        guard !state.isFinal else { throw StoreError.conflict("the job has already finished (\(state.rawValue)); nothing to cancel") }
        if state == .queued {
            state = .cancelled
            message = "cancelled before it started"
            finishedAt = Date()
        } else {
            message = "cancelling: the training process is being stopped"
        }
    }

    mutating func start() {
        state = .running
        startedAt = Date()
        message = "reading the dataset"
    }

    /// A job found running when no runner holds it any more: never left looking alive.
    mutating func markInterruptedByRestart() {
        state = .interrupted
        message = "the server stopped while this job ran; create a new job to train again"
        finishedAt = Date()
    }

    /// A job whose server stopped renewing its lease (it died, or lost the database for longer than the lease).
    mutating func markLeaseEnded() {
        state = .interrupted
        message = "the server running this job stopped; create a new job to train again"
        finishedAt = Date()
    }

    mutating func finish(_ outcome: JobOutcome) {
        state = outcome.state
        message = outcome.message
        error = outcome.error
        if let leaderboard = outcome.leaderboard { self.leaderboard = leaderboard }
        modelVersion = outcome.version
        if outcome.state == .succeeded { progress = 1 }
        finishedAt = Date()
    }
}

extension ModelSeriesRecord {
    /// The record of the next version; it serves when it is the name's first or when asked to.
    mutating func register(_ draft: ModelDraft) -> (ModelRecord, serves: Bool) {
        let record = ModelRecord(id: UUID().uuidString.lowercased(), tenantId: draft.tenant, name: draft.name, version: nextVersion,
                                 fileName: draft.fileName, datasetId: draft.datasetID, jobId: draft.jobID, comparison: draft.comparison, createdAt: Date())
        let serves = servingVersion == 0 || draft.promote
        if serves { servingVersion = record.version }
        nextVersion += 1
        return (record, serves)
    }
}

extension ModelDraft {
    /// Who the audit log names: the job that trained it, or the tenant.
    var actor: String { jobID.map { "job \($0)" } ?? tenant }
}

extension ModelRecord {
    func registrationSummary(serves: Bool) -> String { "\(name) version \(version)\(serves ? ", serving" : "")" }
}

extension TenantRecord {
    var settingsSummary: String { "prediction_retention_days=\(predictionRetentionDays) log_inputs=\(logInputs)" }

    /// The oldest prediction still kept at `now`.
    func predictionsKeptSince(_ now: Date) -> Date { now.addingTimeInterval(-Double(predictionRetentionDays) * 86_400) }
}

extension StoreError {
    static func jobLimit(active: Int, limit: Int) -> StoreError {
        .limitReached("this tenant already has \(active) queued or running job\(active == 1 ? "" : "s") (the limit is \(limit)); wait for one to finish or cancel one", retryAfter: 10)
    }

    /// A tenant cannot be deleted while a job of it is queued or running.
    static func activeJobs(tenant: String, active: Int) -> StoreError {
        .conflict("tenant '\(tenant.clipped())' has \(active) queued or running job\(active == 1 ? "" : "s"); cancel \(active == 1 ? "it" : "them") first (POST /api/v1/jobs/{id}/cancel with the tenant's key)")
    }

    static func servingVersion(_ name: String, _ version: Int) -> StoreError {
        .conflict("version \(version) of '\(name.clipped())' is the serving version; promote another version first, or delete the whole model")
    }
}

import Foundation
import InferenceCore

/// The work a worker process does: the subcommand of `testbed worker` that does it.
enum WorkerJob: String, Sendable, CaseIterable {
    case profile
    case train

    /// The worker in a client's words.
    var process: String { self == .profile ? "the profiling process" : "the training process" }
    /// What a failure leaves behind, said to the client.
    var consequence: String { self == .profile ? "the upload was not stored" : "no model was registered" }
    /// What to try instead when the worker needs more than it may have.
    var smallerInput: String { self == .profile ? "a smaller file (fewer rows or columns)" : "fewer rows or columns" }
}

/// What `testbed worker profile` reads: the uploaded file, still under the data directory's `tmp/`
/// (the server removes it if the worker fails).
struct ProfileRequest: Codable, Sendable {
    var path: String
    /// `--max-columns` of the server.
    var maxColumns: Int
}

/// What `testbed worker profile` answers.
struct ProfileResult: Codable, Sendable {
    var rows: Int
    var columns: Int
    var sha256: String
    var profile: DatasetProfile
}

/// What `testbed worker train` trains: a job's choices and where its files are.
struct TrainingRequest: Codable, Sendable {
    var datasetPath: String
    /// The dataset's name and digest, recorded in the model.
    var sourceName: String
    var sourceSHA256: String
    var target: String
    var task: LearningTask?
    var algorithm: AlgorithmChoice
    var folds: Int
    var seed: Int
    var split: SplitRequest
    var coverage: Double
    var timeBudgetSeconds: Double
    /// A model name's serving version, when this job trains the next: its recipe is
    /// cross-validated on the new version's folds, for the card's comparison.
    var baseline: Baseline?

    struct Baseline: Codable, Sendable {
        var version: Int
        var algorithm: String
        var parameters: Hyperparameters
        /// An ensemble's members (`nil` for other families): its recipe is theirs, averaged.
        var members: [Member]? = nil
    }

    /// A member of a serving ensemble: its family, hyper-parameters and weight.
    struct Member: Codable, Sendable {
        var algorithm: String
        var parameters: Hyperparameters
        var weight: Double
    }

    /// The core's training choices.
    var spec: TrainingSpec {
        TrainingSpec(target: target, task: task, algorithm: algorithm, seed: UInt64(seed), folds: folds, split: split, coverage: coverage)
    }
}

/// What `testbed worker train` answers: the model, in its model-file form.
struct TrainingResult: Codable, Sendable {
    var model: TrainedModel
    /// The serving version's recipe on the same folds, when there was one.
    var comparison: VersionComparison?
}

/// A new version set against the one that served when it was trained: the serving version's
/// algorithm and parameters cross-validated on the new version's folds (its data, its split,
/// its seed), so that both figures come from the same rows.
struct VersionComparison: Codable, Sendable, Equatable {
    var version: Int
    var algorithm: String
    var folds: Int
    var metrics: [String: Double]
    var metricsStd: [String: Double]

    enum CodingKeys: String, CodingKey { case version, algorithm, folds, metrics; case metricsStd = "metrics_std" }
}

/// A ``TrainingProgress`` on its way from the worker to the server.
struct WorkerProgress: Codable, Sendable {
    var fraction: Double
    var message: String
    var finished: LeaderboardEntry?

    init(_ step: TrainingProgress) { (fraction, message, finished) = (step.fraction, step.message, step.finished) }

    var step: TrainingProgress { TrainingProgress(fraction: fraction, message: message, finished: finished) }
}

/// An error the worker caught and reported itself (bad input, mostly): the client gets it as if
/// the work had run in the server.
struct WorkerErrorReport: Codable, Sendable {
    /// The ``TestbedError/Code`` name; `nil` for any other error.
    var code: String?
    var message: String

    init(_ error: any Error) {
        if let error = error as? TestbedError {
            (code, message) = (error.code.name, error.message)
        } else {
            (code, message) = (nil, String(describing: error))
        }
    }

    /// The error to throw in the server.
    func error(of job: WorkerJob) -> any Error {
        if let code { return TestbedError(TestbedError.Code(code), message) }
        return WorkerFailure(job: job, cause: .reported(message))
    }
}

/// One line on a worker's message channel (its standard output), as JSON.
enum WorkerMessage<Result: Codable & Sendable>: Codable, Sendable {
    case progress(WorkerProgress)
    case finished(Result)
    case failed(WorkerErrorReport)
}

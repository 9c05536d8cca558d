import ArgumentParser
import Foundation
import InferenceCore

/// `testbed worker`: the server's own helper, not for people. `testbed serve` starts it as a
/// child process for work that might fail badly (see ``WorkerLauncher``); it reads one request
/// on standard input and answers on standard output.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Internal: heavy work for the server, in a process of its own.",
        shouldDisplay: false, subcommands: [WorkerProfileCommand.self, WorkerTrainCommand.self])
}

/// What every worker is started with.
struct WorkerOptions: ParsableArguments {
    @Option(help: "The most bytes of memory the worker may allocate.") var memoryLimit: Int?
}

/// `testbed worker profile`: reads an uploaded CSV file and answers its profile and digest.
struct WorkerProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "profile", shouldDisplay: false)
    @OptionGroup var options: WorkerOptions

    func run() throws {
        try WorkerSandbox.enter(.profile, memoryLimit: options.memoryLimit).serve(ProfileRequest.self, ProfileResult.self) { request, _ in
            try Self.profile(request)
        }
    }

    static func profile(_ request: ProfileRequest) throws -> ProfileResult {
        // The reader refuses a record of more fields than the limit while splitting it, before a
        // header of millions of delimiters costs memory.
        let table = try CSVReader(options: CSVReadOptions(maxColumns: request.maxColumns)).read(file: request.path)
        return ProfileResult(rows: table.rowCount, columns: table.columns.count,
                             sha256: try FileDigest.sha256(ofFile: request.path), profile: DatasetProfile(table))
    }
}

/// `testbed worker train`: trains a job's model, reporting every step, and answers the model.
struct WorkerTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", shouldDisplay: false)
    @OptionGroup var options: WorkerOptions

    func run() throws {
        try WorkerSandbox.enter(.train, memoryLimit: options.memoryLimit).serve(TrainingRequest.self, TrainingResult.self, work: Self.train)
    }

    static func train(_ request: TrainingRequest, progress: @escaping TrainingProgressHandler) throws -> TrainingResult {
        let table = try CSVReader(options: CSVReadOptions(textColumns: [request.target])).read(file: request.datasetPath)
        let model = try TrainedModel.train(table, spec: request.spec, sourceFile: request.sourceName, sourceSHA256: request.sourceSHA256,
                                           timeBudget: request.timeBudgetSeconds, progress: progress)
        return TrainingResult(model: model, comparison: try compare(request, table: table, plan: model.training.evaluation?.validation, progress: progress))
    }

    /// The serving version's recipe cross-validated on the new version's folds; `nil` without a
    /// serving version, without cross-validation, or when that recipe no longer suits the data.
    static func compare(_ request: TrainingRequest, table: DataTable, plan: ValidationPlan?,
                        progress: TrainingProgressHandler) throws -> VersionComparison? {
        guard let baseline = request.baseline, let plan else { return nil }
        if let members = baseline.members {
            try progress(TrainingProgress(fraction: 0.97, message: "cross-validating serving version \(baseline.version) (an ensemble of \(members.count)) on the same folds"))
            guard let result = try? TrainedModel.ensembleCrossValidation(of: members.map { (Candidate($0.algorithm, $0.parameters), $0.weight) },
                                                                          table: table, spec: request.spec, plan: plan) else { return nil }
            return VersionComparison(version: baseline.version, algorithm: baseline.algorithm, folds: result.folds,
                                     metrics: result.metrics, metricsStd: result.metricsStd)
        }
        var spec = request.spec
        (spec.algorithm, spec.parameters) = (.named(baseline.algorithm), baseline.parameters)
        try progress(TrainingProgress(fraction: 0.97, message: "cross-validating serving version \(baseline.version) (\(baseline.algorithm)) on the same folds"))
        guard let prepared = try? PreparedData(table, spec: spec),
              let parameters = try? prepared.algorithm.resolve(baseline.parameters),
              let result = try? prepared.crossValidate(plan: plan, parameters: parameters, seed: spec.seed) else { return nil }
        return VersionComparison(version: baseline.version, algorithm: baseline.algorithm, folds: result.folds,
                                 metrics: result.metrics, metricsStd: result.metricsStd)
    }
}

@testable import InferenceCore

/// Candidates cross-validated on a real dataset, as a search would give them to the ensemble
/// selection, and the ensemble built from them.
struct EnsembleData {
    var table: DataTable
    var spec: TrainingSpec
    var candidates: [Candidate]
    /// Per candidate, its out-of-fold predictions on `spec`'s folds.
    var outOfFold: [Matrix]
    var selection: EnsembleSelection.Result
    var model: TrainedModel?

    /// Quick settings of the families, small enough for a test.
    static let quick: [Candidate] = [
        Candidate("ridge", ["alpha": 1]), Candidate("logistic", ["C": 1]), Candidate("knn", ["k": 5]),
        Candidate("gbdt", ["max_iter": 40, "min_samples_leaf": 5, "max_leaf_nodes": 15]),
        Candidate("random_forest", ["n_estimators": 30]),
    ]

    init(_ dataset: String, target: String, families: Set<String>, folds: Int = 5, seed: UInt64 = 4) throws {
        let table = try TestData.table(dataset, target: target)
        let spec = TrainingSpec(target: target, seed: seed, folds: folds)
        let task = try Target(table.column(named: target), task: nil).task
        let candidates = Self.quick.filter { families.contains($0.algorithm) && AlgorithmRegistry.names(for: task).contains($0.algorithm) }
        (self.table, self.spec, self.candidates) = (table, spec, candidates)
        outOfFold = try candidates.map { candidate in
            var candidateSpec = spec
            (candidateSpec.algorithm, candidateSpec.parameters) = (.named(candidate.algorithm), candidate.parameters)
            let prepared = try PreparedData(table, spec: candidateSpec)
            return try prepared.outOfFoldPredictions(parameters: prepared.algorithm.resolve(candidate.parameters), seed: seed)
        }
        (model, selection) = try TrainedModel.ensembleIfBetter(of: candidates, outOfFold: outOfFold, table: table, spec: spec)
    }

    /// An ensemble of the candidates of the families in `weights`, with those weights, whether
    /// or not the selection would choose it.
    func ensemble(_ weights: [String: Double]) throws -> TrainedModel {
        let chosen = candidates.indices.filter { weights[candidates[$0].algorithm] != nil }
        return try TrainedModel.ensemble(of: chosen.map { (candidates[$0], weights[candidates[$0].algorithm]!) },
                                         outOfFold: chosen.map { outOfFold[$0] }, table: table, spec: spec)
    }

    /// A candidate trained alone on every row, as `testbed train --algorithm` would.
    func single(_ candidate: Candidate) throws -> TrainedModel {
        var single = spec
        (single.algorithm, single.parameters, single.folds) = (.named(candidate.algorithm), candidate.parameters, 0)
        return try TrainedModel.train(table, spec: single)
    }
}

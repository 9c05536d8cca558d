import Foundation

/// The figure an `auto` model's card shows: the search chose its winner on part of the rows (by
/// inner cross-validation), and the winner, fitted on that part, is scored on the rest, which
/// no step of the selection saw.
///
/// Why a hold-out rather than nested cross-validation: nested cross-validation repeats the whole
/// search once per outer fold, so within the same time budget each search would get a fifth of
/// the time and choose worse. A hold-out costs one more fit of the winner. Its figure is noisier
/// on small tables (it rests on a fifth of the rows), but it is not flattered by the selection.
public struct OuterHoldOut: Sendable, Codable, Equatable {
    /// The rows held out and scored.
    public var rows: Int
    /// The rows the search chose on.
    public var selectionRows: Int
    /// The winner's figures on the held-out rows.
    public var metrics: [String: Double]
    /// Their standard deviation over bootstrap resamples of the held-out rows: the spread a test
    /// set of this size gives, comparable with a cross-validation's fold-to-fold spread.
    public var metricsStd: [String: Double]
    /// The winner's figures on the search's inner folds, which also chose it (flattered).
    public var innerMetrics: [String: Double]
    /// How the rows were held out and why, in words for the card.
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case rows, metrics, reason
        case selectionRows = "selection_rows"
        case metricsStd = "metrics_std"
        case innerMetrics = "inner_metrics"
    }

    /// One part in `parts` is held out: the last block in time for time-ordered folds, whole
    /// groups for group folds, a stratified random share otherwise (the spec's own scheme).
    static let parts = 5
    /// Fewer rows than this leave too few to score on; the inner figures are kept, with a note.
    public static let minimumRows = 100
    /// Resamples of the held-out rows behind ``metricsStd``.
    static let bootstrapResamples = 100

    /// The rows to search on and the rows to hold out (positions in `prepared.table`), or `nil`
    /// with the reason when the table is too small.
    static func split(_ prepared: PreparedData, seed: UInt64) -> (selection: [Int], holdOut: [Int])? {
        let rows = prepared.target.values.count
        guard rows >= minimumRows else { return nil }
        var plan = prepared.plan
        plan.folds = parts
        // A different stream from the inner folds' (which use `seed`), so the two splits do not align.
        guard let folds = try? FoldSplitter(plan: plan, seed: seed &+ 0x0_7E57).split(prepared.target, table: prepared.table).folds,
              let last = folds.last, !last.test.isEmpty else { return nil }
        return (last.train, last.test)
    }

    /// The winner (`parameters` of `prepared`'s algorithm) fitted on `selection` and scored on `holdOut`.
    static func measure(_ prepared: PreparedData, parameters: Hyperparameters, seed: UInt64, selection: [Int], holdOut: [Int],
                        innerMetrics: [String: Double]) throws -> OuterHoldOut {
        let (preprocessor, model) = try prepared.fit(rows: selection, parameters: parameters, seed: seed)
        let output = try model.checkedPredict(preprocessor.transform(prepared.table.selectingRows(holdOut)))
        return score(output, of: "the winner", prepared, seed: seed, selection: selection, holdOut: holdOut, innerMetrics: innerMetrics)
    }

    /// An ensemble of whole pipelines (each member its own prepared data and hyper-parameters)
    /// with its weights: every member fitted on `selection`, their outputs on `holdOut` averaged
    /// with the weights, as the ensemble predicts, and scored. Also each feature's permutation
    /// importance there: its column shuffled among the held-out rows before every member's own
    /// preprocessing, as no single encoded matrix serves all members. With a `deadline`, the
    /// shuffles are as many as fit before it (at most ``PermutationImportance/repeats`` per
    /// feature, judged by the time of one prediction of the held-out rows), and none when not one
    /// per feature fits: `importance` is then `nil`.
    public static func measure(ensemble members: [(prepared: PreparedData, parameters: Hyperparameters, weight: Double)], seed: UInt64,
                               selection: [Int], holdOut: [Int], innerMetrics: [String: Double], deadline: Date? = nil) throws
        -> (holdOut: OuterHoldOut, importance: [FeatureImportance]?, repeats: Int) {
        guard let first = members.first?.prepared else {
            throw TestbedError(.invalidParameter, "an ensemble needs at least one member to be scored")
        }
        // Fitted on the search's rows, and averaged as the saved ensemble averages.
        let ensemble = Ensemble(members: try members.map { member in
            let (preprocessor, model) = try member.prepared.fit(rows: selection, parameters: member.parameters, seed: seed)
            return EnsembleMember(algorithm: member.prepared.algorithm.name, parameters: member.parameters, weight: member.weight,
                                  preprocessor: preprocessor, model: model)
        })
        func predict(_ rows: DataTable) throws -> Matrix { try ensemble.predict(rows) }
        let rows = first.table.selectingRows(holdOut)
        let began = Date()
        let output = try predict(rows)
        let secondsPerShuffle = Date().timeIntervalSince(began) * Double(first.features.count)
        // Compared as numbers before converting: a far deadline (a budget of 1e300 s) over a
        // tiny shuffle time is beyond Int.
        let affordable = deadline.map { max($0.timeIntervalSinceNow, 0) / max(secondsPerShuffle, 1e-9) } ?? .infinity
        let repeats = affordable >= Double(PermutationImportance.repeats) ? PermutationImportance.repeats : Int(affordable)
        let scored = score(output, of: "the ensemble (its members averaged with their weights)", first, seed: seed,
                           selection: selection, holdOut: holdOut, innerMetrics: innerMetrics)

        let actual = holdOut.map { first.target.values[$0] }
        guard repeats > 0 else { return (scored, nil, 0) }
        let permutation = PermutationImportance(task: first.target.task, groups: [], featureCount: first.features.count)
        let baseline = permutation.error(output, actual)
        var generator = SeededGenerator(seed: seed &+ 0x5EED)
        let importance = try first.features.map { feature in
            guard let position = rows.columns.firstIndex(where: { $0.name == feature.name }) else {
                throw TestbedError(.unknownColumn, "feature '\(feature.name.clipped())' is not a column of the table")
            }
            let increases = try (0..<repeats).map { _ in
                var order = Array(0..<rows.rowCount)
                generator.shuffle(&order)
                var shuffled = rows
                shuffled.columns[position].values = rows.columns[position].values.selecting(order)
                return try permutation.error(predict(shuffled), actual) - baseline
            }
            let (mean, std) = increases.meanAndStandardDeviation()
            return FeatureImportance(feature: feature.name, permutation: mean, permutationStd: std, gain: nil)
        }.sorted { $0.permutation > $1.permutation }
        return (scored, importance, repeats)
    }

    /// `output` (predictions of the `holdOut` rows) scored, with a bootstrap spread.
    private static func score(_ output: Matrix, of subject: String, _ prepared: PreparedData, seed: UInt64, selection: [Int], holdOut: [Int],
                              innerMetrics: [String: Double]) -> OuterHoldOut {
        let actual = holdOut.map { prepared.target.values[$0] }
        func score(_ positions: [Int]) -> [String: Double] {
            prepared.target.task == .regression
                ? RegressionMetrics.compute(actual: positions.map { actual[$0] }, predicted: positions.map { output.storage[$0] })
                : ClassificationMetrics.compute(actual: positions.map { Int(actual[$0]) }, probabilities: output.selectingRows(positions))
        }
        let metrics = score(Array(actual.indices))
        var generator = SeededGenerator(seed: seed &+ 0xB007)
        let resamples = (0..<bootstrapResamples).map { _ in score(actual.indices.map { _ in Int(generator.next() % UInt64(actual.count)) }) }
        let spread = CrossValidationResult(folds: resamples.count, perFold: resamples, confusionMatrix: nil, reliability: nil, notes: []).metricsStd
        let scheme = switch prepared.plan.scheme {
        case .random: "a random fifth of the rows"
        case .time: "the latest rows in time"
        case .group: "whole groups"
        }
        let reason = "auto chose its winner by cross-validation on \(selection.count) rows; these figures are \(subject), fitted on those rows, scored on the other \(holdOut.count) (\(scheme)), which the selection never saw. An outer hold-out rather than nested cross-validation: it costs one more fit, where nesting would repeat the whole search in the same time budget"
        return OuterHoldOut(rows: holdOut.count, selectionRows: selection.count, metrics: metrics, metricsStd: spread.filter { metrics[$0.key] != nil },
                            innerMetrics: innerMetrics, reason: reason)
    }
}

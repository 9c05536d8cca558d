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
        let reason = "auto chose its winner by cross-validation on \(selection.count) rows; these figures are the winner, fitted on those rows, scored on the other \(holdOut.count) (\(scheme)), which the selection never saw. An outer hold-out rather than nested cross-validation: it costs one more fit, where nesting would repeat the whole search in the same time budget"
        return OuterHoldOut(rows: holdOut.count, selectionRows: selection.count, metrics: metrics, metricsStd: spread.filter { metrics[$0.key] != nil },
                            innerMetrics: innerMetrics, reason: reason)
    }
}

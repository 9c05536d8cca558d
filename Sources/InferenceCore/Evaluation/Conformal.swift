/// Conformal prediction intervals (regression) and prediction sets (classification), calibrated
/// on the out-of-fold predictions of the model's own cross-validation.
///
/// The method is cross-conformal with the final model (the "CV" method of Barber et al., 2021,
/// without the "+"): each training row's nonconformity score comes from the fold model that did
/// not see it, and the ⌈(n + 1)·coverage⌉-th smallest score is applied around the prediction of
/// the model fitted on every row. Unlike CV+ it needs only that one model at prediction time, so a
/// model file stays one model and an interval costs nothing extra. Its guarantee is not exact (CV+
/// guarantees 1 − 2α in the worst case), which is why the coverage is measured on the shared
/// datasets (`docs/prediction-intervals.md`) rather than assumed.
public struct ConformalCalibration: Sendable, Codable, Equatable {
    /// The share of new rows the intervals or sets are meant to cover, in (0, 1).
    public var coverage: Double
    /// Regression: the interval is the prediction ± this.
    public var halfWidth: Double?
    /// Classification: a label is in the set when its probability is at least this. A set can
    /// be empty: then no label is likely enough for the coverage (the row is unlike the training
    /// rows, or the model is unsure between labels none of which reaches it).
    public var minimumProbability: Double?
    /// Classification: the share of labels exactly at ``minimumProbability`` to include. Models
    /// whose probabilities take few values (k-NN's are multiples of 1/k) tie many scores at the
    /// quantile; including all of them would cover far more than asked, none of them far less.
    /// Which tied labels are in is decided by a hash of the row's encoded inputs and the label,
    /// so an input always gets the same set while different inputs with the same probabilities
    /// (common with k-NN) are spread as the share says.
    public var tieShare: Double?
    /// The out-of-fold rows the quantile was taken over.
    public var calibrationRows: Int

    enum CodingKeys: String, CodingKey {
        case coverage
        case halfWidth = "half_width"
        case minimumProbability = "minimum_probability"
        case tieShare = "tie_share"
        case calibrationRows = "calibration_rows"
    }

    public init(coverage: Double, halfWidth: Double?, minimumProbability: Double?, tieShare: Double? = nil, calibrationRows: Int) {
        self.coverage = coverage
        self.halfWidth = halfWidth
        self.minimumProbability = minimumProbability
        self.tieShare = tieShare
        self.calibrationRows = calibrationRows
    }

    /// Probabilities this close count as equal (the same k-NN vote share computed two ways).
    static let tieTolerance = 1e-9

    /// The default coverage: "in 9 cases out of 10".
    public static let defaultCoverage = 0.9

    /// What does not fit together in a decoded calibration, or `nil`: every figure is used in
    /// arithmetic on each prediction, so a model file's must be in range.
    func inconsistency(for task: LearningTask) -> String? {
        guard coverage > 0, coverage < 1 else { return "conformal coverage \(coverage) is not between 0 and 1" }
        switch task {
        case .regression:
            guard let halfWidth, halfWidth.isFinite, halfWidth >= 0, minimumProbability == nil else {
                return "a regression model's conformal calibration needs a finite half_width >= 0 (and no minimum_probability)"
            }
        case .classification:
            guard let minimumProbability, (0...1).contains(minimumProbability), halfWidth == nil,
                  tieShare.map({ (0...1).contains($0) }) ?? true else {
                return "a classifier's conformal calibration needs a minimum_probability and a tie_share from 0 to 1 (and no half_width)"
            }
        }
        return nil
    }

    /// Checks a coverage given by a person.
    public static func validate(coverage: Double) throws {
        guard coverage.isFinite, coverage > 0, coverage < 1 else {
            throw TestbedError(.invalidParameter, "coverage == \(formatNumber(coverage)), must be between 0 and 1 (exclusive), such as 0.9 for 9 cases out of 10")
        }
    }

    /// A note when `calibrationRows` are too few for `coverage`: the conformal rank then lies
    /// beyond the largest score, which is used instead, so the coverage is not guaranteed.
    var shortfallNote: String? {
        let rank = (Double(calibrationRows + 1) * coverage).rounded(.up)
        guard rank > Double(calibrationRows) else { return nil }
        // The fewest rows whose conformal rank is not beyond the largest: ⌈(n + 1)·c⌉ ≤ n.
        var needed = max(Int((coverage / (1 - coverage)).rounded(.down)) - 2, 1)
        while (Double(needed + 1) * coverage).rounded(.up) > Double(needed) { needed += 1 }
        return "\(calibrationRows) out-of-fold rows are too few to calibrate a coverage of \(formatNumber(coverage)): the largest error is used, and the ranges may cover less than they say; a coverage of \(formatNumber(coverage)) needs at least \(needed) rows"
    }

    /// The conformal quantile of `scores`: the ⌈(n + 1)·coverage⌉-th smallest, or the largest when
    /// there are too few scores for that rank (then the coverage is not guaranteed).
    static func quantile(_ scores: [Double], coverage: Double) -> Double? {
        let sorted = scores.sortedPresent()
        guard !sorted.isEmpty else { return nil }
        let rank = Int((Double(sorted.count + 1) * coverage).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// Regression: calibrated on absolute out-of-fold residuals (NaN where a row was not tested).
    static func regression(actual: [Double], predicted: [Double], coverage: Double) -> ConformalCalibration? {
        let residuals = zip(actual, predicted).compactMap { $1.isNaN ? nil : abs($0 - $1) }
        guard let q = quantile(residuals, coverage: coverage) else { return nil }
        return ConformalCalibration(coverage: coverage, halfWidth: q, minimumProbability: nil, calibrationRows: residuals.count)
    }

    /// Classification: calibrated on one minus the out-of-fold probability of the true class
    /// (the "LAC" score); rows that were not tested are skipped.
    static func classification(actual: [Int], probabilities: Matrix, tested: [Bool], coverage: Double) -> ConformalCalibration? {
        let scores = actual.indices.compactMap { row in tested[row] ? 1 - probabilities[row, actual[row]] : nil }
        guard let q = quantile(scores, coverage: coverage) else { return nil }
        // The share of the tied scores that brings the expected coverage to the conformal rank.
        let below = scores.count { $0 < q - tieTolerance }
        let tied = scores.count { abs($0 - q) <= tieTolerance }
        let rank = (Double(scores.count + 1) * coverage).rounded(.up)
        let share = tied > 0 ? min(max((rank - Double(below)) / Double(tied), 0), 1) : 1
        return ConformalCalibration(coverage: coverage, halfWidth: nil, minimumProbability: 1 - q, tieShare: share, calibrationRows: scores.count)
    }

    /// Classification: the class indices that cannot be ruled out, most probable first.
    ///
    /// The most probable label is not added when it falls short: with a model that is right more
    /// often than the coverage asks, that would make every set cover more than it says.
    /// - Parameter inputs: the row's encoded inputs, which decide the labels tied at the
    ///   threshold (see ``tieShare``).
    public func predictionSet(probabilities: [Double], inputs: some Collection<Double> = [Double]()) -> [Int] {
        guard let minimumProbability else { return [] }
        let share = tieShare ?? 1
        let rowHash = share >= 1 ? 0 : Self.hash(inputs)
        return probabilities.indices.filter { label in
            let p = probabilities[label]
            if p > minimumProbability + Self.tieTolerance { return true }
            guard p >= minimumProbability - Self.tieTolerance else { return false }
            return share >= 1 || Self.unit(Self.hash(CollectionOfOne(Double(label)), seed: rowHash)) < share
        }.sorted { probabilities[$0] > probabilities[$1] }
    }

    /// FNV-1a over the values' bits.
    static func hash(_ values: some Collection<Double>, seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var hash = seed
        for value in values {
            var bits = value.bitPattern
            for _ in 0..<8 {
                hash = (hash ^ (bits & 0xff)) &* 0x0000_0100_0000_01b3
                bits >>= 8
            }
        }
        return hash
    }

    /// A hash as a number in [0, 1), after a finalising mix (FNV's bits are weakly mixed).
    static func unit(_ hash: UInt64) -> Double {
        var mixed = hash ^ (hash >> 33)
        mixed = mixed &* 0xff51_afd7_ed55_8ccd
        mixed ^= mixed >> 33
        return Double(mixed >> 11) / Double(UInt64(1) << 53)
    }
}

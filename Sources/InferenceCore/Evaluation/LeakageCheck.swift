/// The same algorithm scored by another split scheme, shown beside the model's own figures.
public struct SchemeComparison: Sendable, Codable, Equatable {
    public var scheme: SplitScheme
    public var metrics: [String: Double]
    public var metricsStd: [String: Double]

    enum CodingKeys: String, CodingKey {
        case scheme, metrics
        case metricsStd = "metrics_std"
    }
}

/// Checks a prepared table and its cross-validated result for the usual ways a figure is too
/// good to be true: a feature that is the target in disguise, one feature that does nearly all
/// the work, and (for logs) random folds that flatter.
///
/// Each finding is a sentence that names the column and says what to do.
enum LeakageCheck {
    /// A time-ordered score this much worse than the random-fold one (relative RMSE, or
    /// accuracy points) means the rows are not independent.
    static let rmseRatioWarning = 1.1
    static let accuracyDropWarning = 0.03
    /// The share of the full model's skill that one feature alone may reach before a warning.
    static let singleFeatureShare = 0.98

    /// Features equal to the target or a relabelling of it: numbers that are a linear function
    /// of a numeric target, or values that map one-to-one onto the classes.
    static func targetCopies(_ prepared: PreparedData) -> [String] {
        prepared.features.compactMap { feature -> String? in
            guard let values = try? prepared.table.column(named: feature.name).values else { return nil }
            let target = prepared.target
            switch (target.task, values) {
            case (.regression, .numeric(let numbers)):
                guard let r = correlation(numbers, target.values), abs(r) >= 0.9999 else { return nil }
                return "'\(feature.name)' is the target in disguise (correlation \(String(format: "%.4f", r)) with it): a model that reads it learns nothing it can use before the outcome is known. Leave it out of the features (drop the column, or --exclude \(feature.name) on the command line) unless it is truly known at prediction time"
            case (.classification, _):
                let (codes, _) = values.textCodes
                // A sparse column maps its few values onto classes by chance: at least half the
                // rows must have one, and every class must be named.
                guard codes.count { $0 >= 0 } * 2 >= codes.count else { return nil }
                var classOf: [Int32: Int] = [:], valueOf: [Int: Int32] = [:]
                for (row, code) in codes.enumerated() where code >= 0 {
                    let label = target.classIndices[row]
                    if let known = classOf[code], known != label { return nil }
                    if let known = valueOf[label], known != code { return nil }
                    (classOf[code], valueOf[label]) = (label, code)
                }
                guard classOf.count >= 2, valueOf.count == Set(target.classIndices).count else { return nil }
                return "'\(feature.name)' is a relabelling of the target: each of its values goes with exactly one class. A model that reads it learns nothing it can use before the outcome is known. Leave it out of the features (drop the column, or --exclude \(feature.name) on the command line) unless it is truly known at prediction time"
            default:
                return nil
            }
        }
    }

    /// Numeric features that count the rows.
    static func rowCounters(_ prepared: PreparedData) -> [String] {
        prepared.features.compactMap { feature in
            guard feature.kind == .numeric, case .numeric(let values)? = try? prepared.table.column(named: feature.name).values,
                  DatasetProfile.isRowCounter(values) else { return nil }
            return "'\(feature.name)' increases by one from row to row, as a row counter: it describes the file, not the rows, and in time order it stands in for the time. Leave it out of the features (drop the column, or --exclude \(feature.name) on the command line) unless the order itself matters"
        }
    }

    /// How much of the full model's skill the single most important feature reaches alone, as a
    /// warning when it is ≥ ``singleFeatureShare``; one more cross-validation, on one column.
    static func singleFeature(_ prepared: PreparedData, evaluation: CrossValidationResult, parameters: Hyperparameters, seed: UInt64) -> String? {
        guard prepared.features.count >= 2, let top = evaluation.importance?.first,
              let feature = prepared.features.first(where: { $0.name == top.feature }) else { return nil }
        var single = prepared
        single.features = [feature]
        guard let alone = try? single.crossValidate(parameters: parameters, seed: seed),
              let full = skill(evaluation, prepared), let one = skill(alone, prepared), full > 0.05 else { return nil }
        let share = one / full
        guard share >= singleFeatureShare else { return nil }
        let metric = ModelSearch.primaryMetric(for: prepared.target.task)
        return "'\(feature.name)' alone reaches \(Int((share * 100).rounded()))% of the full model's cross-validated skill (\(metric) \(formatMetric(alone.metrics[metric])) alone, \(formatMetric(evaluation.metrics[metric])) with every feature). Check that it is known at prediction time and is not recorded after, or from, the outcome"
    }

    /// Skill above the trivial model: R² for regression; for classification the share of the
    /// way from the majority-class accuracy to a perfect one.
    private static func skill(_ result: CrossValidationResult, _ prepared: PreparedData) -> Double? {
        switch prepared.target.task {
        case .regression:
            return result.metrics["r2"]
        case .classification:
            guard let accuracy = result.metrics["accuracy"] else { return nil }
            var counts = [Int](repeating: 0, count: prepared.target.classes.count)
            for label in prepared.target.classIndices { counts[label] += 1 }
            let majority = Double(counts.max() ?? 0) / Double(max(prepared.target.classIndices.count, 1))
            return majority < 1 ? (accuracy - majority) / (1 - majority) : nil
        }
    }

    /// The warning when the time-ordered figure is much worse than the random-fold one.
    static func schemeGap(time: CrossValidationResult, random: SchemeComparison, task: LearningTask) -> String? {
        let metric = ModelSearch.primaryMetric(for: task)
        guard let ordered = time.metrics[metric], let shuffled = random.metrics[metric] else { return nil }
        let large = task == .regression ? ordered > shuffled * rmseRatioWarning : shuffled - ordered > accuracyDropWarning
        guard large else { return nil }
        return "random folds: \(metric) \(formatMetric(shuffled)); in time order: \(formatMetric(ordered)). The rows are not independent (neighbours in time resemble each other), so random folds score the model on rows much like those it learned from; the time-ordered figure is the one to expect on new data"
    }

    private static func formatMetric(_ value: Double?) -> String {
        value.map { String(format: "%.4g", $0) } ?? "n/a"
    }

    private static func correlation(_ x: [Double], _ y: [Double]) -> Double? {
        let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        guard pairs.count >= 3 else { return nil }
        let n = Double(pairs.count)
        let (mx, my) = (pairs.reduce(0) { $0 + $1.0 } / n, pairs.reduce(0) { $0 + $1.1 } / n)
        var (sxx, syy, sxy) = (0.0, 0.0, 0.0)
        for (a, b) in pairs { sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my); sxy += (a - mx) * (b - my) }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }
}

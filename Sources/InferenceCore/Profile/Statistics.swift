/// Summary statistics of the present (non-NaN) values of a numeric column.
public struct NumericSummary: Sendable, Codable, Equatable {
    public var min: Double
    public var max: Double
    public var mean: Double
    /// Population standard deviation.
    public var std: Double
    public var median: Double
    /// The share of cells that are missing, 0–1.
    public var missingShare: Double

    enum CodingKeys: String, CodingKey {
        case min, max, mean, std, median
        case missingShare = "missing_share"
    }

    /// Summarises `values`, skipping NaN; `nil` when no value is present.
    public init?(_ values: [Double]) {
        self.init(values, sortedPresent: values.sortedPresent())
    }

    /// The summary and the number of distinct values, from one sort.
    static func withDistinctCount(_ values: [Double]) -> (summary: NumericSummary?, distinct: Int) {
        let sorted = values.sortedPresent()
        var distinct = sorted.isEmpty ? 0 : 1
        for index in sorted.indices.dropFirst() where sorted[index] != sorted[index - 1] { distinct += 1 }
        return (NumericSummary(values, sortedPresent: sorted), distinct)
    }

    private init?(_ values: [Double], sortedPresent sorted: [Double]) {
        guard let first = sorted.first, let last = sorted.last else { return nil }
        (min, max) = (first, last)
        (mean, std) = sorted.meanAndStandardDeviation()
        median = Self.median(ofSorted: sorted)
        missingShare = Double(values.count - sorted.count) / Double(values.count)
    }

    /// The median of sorted values: the mean of the two middle ones for an even count (as NumPy).
    static func median(ofSorted sorted: [Double]) -> Double {
        let middle = sorted.count / 2
        guard sorted.count % 2 == 0 else { return sorted[middle] }
        let sum = sorted[middle - 1] + sorted[middle]
        // Halved first only where the sum overflows (two values near 1.8e308), to stay as NumPy elsewhere.
        return sum.isFinite ? sum / 2 : sorted[middle - 1] / 2 + sorted[middle] / 2
    }
}

extension Array where Element == Double {
    /// Mean and population standard deviation. Values near the ends of the double range
    /// (±1.8e308) would overflow the sums; they are then summed scaled to at most 1 in size,
    /// so the result is finite whenever the values are.
    func meanAndStandardDeviation() -> (mean: Double, std: Double) {
        guard !isEmpty else { return (.nan, .nan) }
        let mean = reduce(0, +) / Double(count)
        let variance = reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(count)
        if mean.isFinite && variance.isFinite { return (mean, variance.squareRoot()) }
        let scale = reduce(0) { Swift.max($0, Swift.abs($1)) }
        guard scale.isFinite, scale > 0 else { return (mean, variance.squareRoot()) }
        let scaledMean = reduce(0) { $0 + $1 / scale } / Double(count)
        let scaledVariance = reduce(0) { $0 + ($1 / scale - scaledMean) * ($1 / scale - scaledMean) } / Double(count)
        return (scaledMean * scale, scaledVariance.squareRoot() * scale)
    }
}

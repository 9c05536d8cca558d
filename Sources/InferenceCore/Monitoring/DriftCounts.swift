/// Bin counts of a window of served rows against a reference.
public struct DriftCounts: Sendable, Codable, Equatable {
    public var rows: Int
    /// Per monitored feature (reference order): a count per bin (same layout as `shares`).
    public var features: [[Int]]
    /// Per monitored feature: rows whose value was outside the training range (numeric only; 0 otherwise).
    public var outside: [Int]
    /// A count per bin of the reference's `prediction` (same layout as its `shares`).
    public var prediction: [Int]

    /// All zero, laid out as `reference`'s bins.
    public init(reference: DriftReference) {
        rows = 0
        features = reference.features.map { [Int](repeating: 0, count: $0.binCount) }
        outside = [Int](repeating: 0, count: reference.features.count)
        prediction = [Int](repeating: 0, count: reference.prediction.binCount)
    }

    /// Adds `other`'s counts bin by bin (merging windows). Both must come from the same reference;
    /// counts laid out otherwise are not added (a programming error, never a crash on the serving path).
    public mutating func add(_ other: DriftCounts) {
        guard other.features.count == features.count, other.outside.count == outside.count, other.prediction.count == prediction.count,
              zip(features, other.features).allSatisfy({ $0.count == $1.count }) else { return }
        rows += other.rows
        for index in features.indices {
            for bin in features[index].indices { features[index][bin] += other.features[index][bin] }
            outside[index] += other.outside[index]
        }
        for bin in prediction.indices { prediction[bin] += other.prediction[bin] }
    }

    /// Whether these counts have `reference`'s layout (stored counts of a model file since replaced may not).
    public func fits(_ reference: DriftReference) -> Bool {
        guard features.count == reference.features.count, outside.count == features.count,
              prediction.count == reference.prediction.binCount else { return false }
        return reference.features.withUnsafeBufferPointer { quantities in
            features.indices.allSatisfy { features[$0].count == quantities[$0].counter.binCount }
        }
    }
}

import Foundation

/// The training distribution that a served model's inputs and predictions are compared with.
///
/// Stored in the model file (`training.drift_reference`). A server counts the rows it is asked
/// about into ``DriftCounts`` with ``count(_:predictions:into:)``, window by window, and compares
/// each window with these shares by the ``PopulationStability/index(expected:observed:)``.
public struct DriftReference: Sendable, Codable, Equatable {
    /// One monitored quantity (a feature, or the predictions) and its training bins.
    public struct Quantity: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable { case numeric, categorical }

        public var name: String
        public var kind: Kind { didSet { prepareCounting() } }
        /// Numeric: the inner bin edges, training quantiles at 0.1, 0.2, …, 0.9, ascending, duplicates removed.
        /// Bin i holds values v with edges[i-1] <= v < edges[i] (bin 0: v < edges[0]; last numeric bin: v >= edges.last).
        public var edges: [Double]? { didSet { prepareCounting() } }
        /// Numeric: the training range; values outside it are also counted as "outside" (besides their bin).
        public var min: Double? { didSet { prepareCounting() } }
        public var max: Double? { didSet { prepareCounting() } }
        /// Categorical (and yes/no) features and class predictions: the training levels, most frequent first, at most 20;
        /// any other value (rarer training levels included) counts in the "other or unseen" bin.
        ///
        /// Levels that are a yes/no pair (as ``BooleanLevels`` recognises them) are read as the
        /// preprocessor reads a yes/no feature: in any letter case, or as 1 and 0.
        public var levels: [String]? { didSet { prepareCounting() } }
        /// Training share of each bin, in bin order: numeric: edges.count + 1 value bins, then "missing";
        /// categorical: one per level, then "other or unseen", then "missing". Sums to 1.
        public var shares: [Double]

        /// The bins prepared for counting, rebuilt whenever they change (never on the serving path).
        private(set) var counter: BinCounter

        private mutating func prepareCounting() {
            counter = BinCounter(kind: kind, edges: edges ?? [], min: min, max: max, levels: levels ?? [])
        }

        public init(name: String, kind: Kind, edges: [Double]? = nil, min: Double? = nil, max: Double? = nil,
                    levels: [String]? = nil, shares: [Double]) {
            self.name = name
            self.kind = kind
            self.edges = edges
            self.min = min
            self.max = max
            self.levels = levels
            self.shares = shares
            self.counter = BinCounter(kind: kind, edges: edges ?? [], min: min, max: max, levels: levels ?? [])
        }

        /// The number of bins: the values' bins, then (categorical) "other or unseen", then "missing".
        public var binCount: Int { counter.binCount }

        /// The index of the "missing" bin (the last).
        public var missingBin: Int { counter.missingBin }

        /// Human labels of the bins, same order as `shares` (e.g. "< 3.2", "3.2 – 4.1", "≥ 9.7", "missing"; "other or unseen").
        public var binLabels: [String] {
            switch kind {
            case .numeric:
                let edges = self.edges ?? []
                guard !edges.isEmpty else { return ["any value", "missing"] }
                let texts = Self.labelTexts(edges)
                var labels = ["< \(texts[0])"]
                for index in 1..<texts.count { labels.append("\(texts[index - 1]) – \(texts[index])") }
                return labels + ["≥ \(texts[texts.count - 1])", "missing"]
            case .categorical:
                return (levels ?? []) + ["other or unseen", "missing"]
            }
        }

        /// The edges written with the fewest significant digits (3 at least) that keep them apart.
        static func labelTexts(_ edges: [Double]) -> [String] {
            for digits in 3...17 {
                let texts = edges.map { edge -> String in
                    // `%g` would write 1.23e+06; whole digits read better below 10¹⁵.
                    if abs(edge) >= pow(10, Double(digits)) && abs(edge) < 1e15 { return String(format: "%.0f", edge) }
                    return String(format: "%.\(digits)g", edge)
                }
                if Set(texts).count == Set(edges).count { return texts }
            }
            return edges.map(formatNumber)
        }

        enum CodingKeys: String, CodingKey {
            case name, kind, edges, min, max, levels, shares
        }

        /// Reads a quantity and refuses one that counting could misread: edges that are not
        /// finite and strictly ascending, levels listed twice, shares that do not fit the bins.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(name: try container.decode(String.self, forKey: .name),
                      kind: try container.decode(Kind.self, forKey: .kind),
                      edges: try container.decodeIfPresent([Double].self, forKey: .edges),
                      min: try container.decodeIfPresent(Double.self, forKey: .min),
                      max: try container.decodeIfPresent(Double.self, forKey: .max),
                      levels: try container.decodeIfPresent([String].self, forKey: .levels),
                      shares: try container.decode([Double].self, forKey: .shares))
            if let problem = inconsistency {
                throw DecodingError.dataCorruptedError(forKey: .shares, in: container, debugDescription: "drift reference of '\(name.clipped())': \(problem)")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(kind, forKey: .kind)
            try container.encodeIfPresent(edges, forKey: .edges)
            try container.encodeIfPresent(min, forKey: .min)
            try container.encodeIfPresent(max, forKey: .max)
            try container.encodeIfPresent(levels, forKey: .levels)
            try container.encode(shares, forKey: .shares)
        }

        /// What does not fit together, or `nil`.
        var inconsistency: String? {
            switch kind {
            case .numeric:
                guard let edges else { return "a numeric quantity without edges" }
                guard edges.allSatisfy(\.isFinite), zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
                    return "its edges are not finite and strictly ascending"
                }
                guard levels == nil else { return "a numeric quantity with levels" }
            case .categorical:
                guard let levels else { return "a categorical quantity without levels" }
                guard Set(levels).count == levels.count else { return "a level is listed twice" }
                guard edges == nil else { return "a categorical quantity with edges" }
            }
            guard shares.count == binCount else { return "\(shares.count) shares for \(binCount) bins" }
            guard shares.allSatisfy({ $0.isFinite && $0 >= 0 }) else { return "a share is negative or not finite" }
            return nil
        }

        public static func == (lhs: Quantity, rhs: Quantity) -> Bool {
            lhs.name == rhs.name && lhs.kind == rhs.kind && lhs.edges == rhs.edges && lhs.min == rhs.min && lhs.max == rhs.max
                && lhs.levels == rhs.levels && lhs.shares == rhs.shares
        }
    }

    /// Monitored features, in the model's feature order.
    ///
    /// Timestamp features are left out: time always moves past the training range, so every
    /// served row would fall outside it. What the model uses of a time is its calendar parts
    /// (hour, day of week, month, day of year), and those are what matter.
    public var features: [Quantity]
    /// Regression: numeric bins over the final model's predictions on its training rows; classification: the predicted
    /// classes (levels = class labels in the model's class order, all of them, no cap).
    public var prediction: Quantity

    public init(features: [Quantity], prediction: Quantity) {
        self.features = features
        self.prediction = prediction
    }
}

extension DriftReference {
    /// The quantile levels of the numeric bin edges: deciles.
    static let edgeQuantiles = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    /// The most levels a categorical feature keeps; rarer ones count as "other or unseen".
    public static let maxLevels = 20

    /// Builds the reference from the training table (the prepared one: rows with a target) and the model's in-sample predictions.
    ///
    /// The shares are found by counting `table` and `predictions` with ``count(_:predictions:into:)``,
    /// so that served rows are binned exactly as the training rows were.
    public init(features: [FeatureSpec], table: DataTable, predictions: Predictions) throws {
        guard table.rowCount > 0 else {
            throw TestbedError(.unsuitableData, "a drift reference needs training rows; the table has none")
        }
        let quantities = try features.filter { $0.kind != .timestamp }.map { feature in
            try Quantity(bins: feature, values: table.column(named: feature.name).values)
        }
        let prediction: Quantity
        switch predictions.task {
        case .regression:
            prediction = Quantity(numericBins: "prediction", values: predictions.values)
        case .classification:
            prediction = Quantity(name: "prediction", kind: .categorical, levels: predictions.classes, shares: [])
        }
        self.init(features: quantities, prediction: prediction)
        var counts = DriftCounts(reference: self)
        count(table, predictions: predictions, into: &counts)
        for index in self.features.indices {
            self.features[index].shares = counts.features[index].map { Double($0) / Double(table.rowCount) }
        }
        let predicted = counts.prediction.reduce(0, +)
        self.prediction.shares = counts.prediction.map { Double($0) / Double(Swift.max(predicted, 1)) }
    }

    /// The ``edgeQuantiles`` of `sorted` (ascending, no NaN) as numpy's default `np.quantile`
    /// (method "linear"): at position h = (n − 1)·q, x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]), evaluated
    /// from the upper end when the fraction is 0.5 or more, as numpy's `_lerp` does.
    static func quantiles(ofSorted sorted: [Double], at levels: [Double] = edgeQuantiles) -> [Double] {
        guard !sorted.isEmpty else { return [] }
        let last = sorted.count - 1
        return levels.map { level in
            let position = Double(last) * level
            let below = position.rounded(.down)
            let fraction = position - below
            let lower = Swift.min(Int(below), last)
            let (a, b) = (sorted[lower], sorted[Swift.min(lower + 1, last)])
            let difference = b - a
            return fraction >= 0.5 ? b - difference * (1 - fraction) : a + difference * fraction
        }
    }
}

extension DriftReference.Quantity {
    /// A feature's bins from its training column (shares still to be counted).
    init(bins feature: FeatureSpec, values: ColumnValues) throws {
        switch (feature.kind, values) {
        case (.numeric, _):
            self.init(numericBins: feature.name, values: Self.numbers(values))
        case (.boolean, .text(let codes, let levels)):
            guard let boolean = BooleanLevels(levels) else { fallthrough }
            // Both spellings, even when training saw one; the more frequent first.
            let numbers = boolean.numbers(codes: codes, levels: levels)
            let trues = numbers.reduce(0) { $0 + ($1 == 1 ? 1 : 0) }, falses = numbers.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            let ordered = Self.mostFrequentFirst([(boolean.trueText, trues), (boolean.falseText, falses)])
            self.init(name: feature.name, kind: .categorical, levels: ordered, shares: [])
        case (.categorical, _), (.boolean, _):
            let (codes, levels) = values.textCodes
            var counts = [Int](repeating: 0, count: levels.count)
            for code in codes where code >= 0 && Int(code) < levels.count { counts[Int(code)] += 1 }
            let ordered = Self.mostFrequentFirst(zip(levels, counts).filter { $0.1 > 0 })
            self.init(name: feature.name, kind: .categorical, levels: Array(ordered.prefix(DriftReference.maxLevels)), shares: [])
        case (.timestamp, _), (.identifier, _), (.empty, _):
            throw TestbedError(.unsuitableData, "column '\(feature.name.clipped())' is a \(feature.kind.rawValue) feature, which drift monitoring does not bin")
        }
    }

    /// Numeric bins (shares still to be counted): the deciles of the present values, their range.
    init(numericBins name: String, values: [Double]) {
        let present = values.sortedPresent()
        var edges: [Double] = []
        for edge in DriftReference.quantiles(ofSorted: present) where edge.isFinite && edges.last.map({ edge > $0 }) ?? true {
            edges.append(edge)
        }
        self.init(name: name, kind: .numeric, edges: edges, min: present.first(where: \.isFinite), max: present.last(where: \.isFinite), shares: [])
    }

    /// Levels by count, most frequent first; equal counts in code-point order (as Python sorts strings).
    static func mostFrequentFirst(_ levels: [(String, Int)]) -> [String] {
        levels.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.unicodeScalarsPrecede($1.0) }.map(\.0)
    }

    /// A numeric column's values; text cells as the preprocessor reads them (either decimal mark), unreadable ones NaN.
    static func numbers(_ values: ColumnValues) -> [Double] {
        switch values {
        case .numeric(let numbers):
            return numbers
        case .text(let codes, let levels):
            let levelValues = levels.map { NumberParser.parseEitherMark($0) ?? .nan }
            return codes.map { $0 < 0 || Int($0) >= levels.count ? .nan : levelValues[Int($0)] }
        }
    }
}

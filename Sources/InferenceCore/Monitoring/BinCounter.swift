/// A quantity's bins prepared for counting served cells: built once when the quantity is made
/// or changed, and shared (a class, immutable) so that counting borrows it instead of copying
/// each of the quantity's arrays.
///
/// Cells are read as the preprocessor reads them: numbers from text with either decimal mark,
/// categories by their exact text (or, sent as a number, by its shortest form), yes/no in any
/// letter case or as 1 and 0. Bins follow ``DriftReference/Quantity/shares``: the value bins,
/// then (categorical) "other or unseen", then "missing".
final class BinCounter: Sendable {
    let kind: DriftReference.Quantity.Kind
    let edges: [Double]
    /// The training range; a value outside it is counted as outside (±∞ when unknown).
    let low: Double
    let high: Double
    let levels: [String]
    let levelBins: [String: Int]
    /// Levels that are a number in its shortest form, by that number.
    let numberBins: [Double: Int]
    /// For levels that are a yes/no pair: its spellings and their bins.
    let boolean: BooleanLevels?
    let trueBin: Int
    let falseBin: Int
    /// Categorical: "other or unseen".
    let otherBin: Int
    let missingBin: Int

    /// Up to this many levels, a text is found by comparing it with each (short strings compare
    /// in a few instructions); beyond, by hashing.
    static let scannedLevels = 8

    init(kind: DriftReference.Quantity.Kind, edges: [Double], min: Double?, max: Double?, levels: [String]) {
        self.kind = kind
        self.edges = kind == .numeric ? edges : []
        self.low = min ?? -.infinity
        self.high = max ?? .infinity
        let levels = kind == .categorical ? levels : []
        self.levels = levels
        levelBins = Dictionary(levels.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var numberBins: [Double: Int] = [:]
        for (bin, level) in levels.enumerated() {
            if let number = NumberParser(decimalMark: ASCII.period).parse(level), formatNumber(number) == level, numberBins[number] == nil {
                numberBins[number] = bin
            }
        }
        self.numberBins = numberBins
        let boolean = BooleanLevels(levels)
        self.boolean = boolean
        otherBin = levels.count
        trueBin = boolean.flatMap { boolean in levels.firstIndex { $0.lowercased() == boolean.trueText.lowercased() } } ?? levels.count
        falseBin = boolean.flatMap { boolean in levels.firstIndex { $0.lowercased() == boolean.falseText.lowercased() } } ?? levels.count
        missingBin = kind == .numeric ? self.edges.count + 1 : levels.count + 1
    }

    /// The number of bins.
    var binCount: Int { missingBin + 1 }

    /// Counts a column's cells into `bins` (`binCount` of them) and returns how many were outside
    /// the training range.
    func count(_ values: ColumnValues, into bins: UnsafeMutableBufferPointer<Int>) -> Int {
        switch (kind, values) {
        case (.numeric, .numeric(let numbers)):
            return count(numbers: numbers, into: bins)
        case (.numeric, .text(let codes, let levels)):
            // Each distinct text is read once (in a stack buffer for a small table).
            return withUnsafeTemporaryAllocation(of: Double.self, capacity: levels.count) { levelValues in
                for (index, level) in levels.enumerated() { levelValues[index] = Self.number(level) ?? .nan }
                var outside = 0
                for code in codes {
                    outside += countNumber(code >= 0 && Int(code) < levels.count ? levelValues[Int(code)] : .nan, into: bins)
                }
                return outside
            }
        case (.categorical, .text(let codes, let levels)):
            withUnsafeTemporaryAllocation(of: Int.self, capacity: levels.count) { levelBins in
                for (index, level) in levels.enumerated() { levelBins[index] = bin(ofText: level) }
                for code in codes { bins[code >= 0 && Int(code) < levels.count ? levelBins[Int(code)] : missingBin] += 1 }
            }
            return 0
        case (.categorical, .numeric(let numbers)):
            for value in numbers { bins[bin(ofNumber: value)] += 1 }
            return 0
        }
    }

    /// Counts numbers (NaN: missing) into numeric bins; returns how many were outside the training range.
    func count(numbers: [Double], into bins: UnsafeMutableBufferPointer<Int>) -> Int {
        var outside = 0
        for value in numbers { outside += countNumber(value, into: bins) }
        return outside
    }

    /// Counts one number into numeric bins; 1 when it is outside the training range, else 0.
    @inline(__always)
    func countNumber(_ value: Double, into bins: UnsafeMutableBufferPointer<Int>) -> Int {
        guard !value.isNaN else {
            bins[missingBin] += 1
            return 0
        }
        // At most nine edges: a scan is as fast as a bisection.
        var bin = 0
        while bin < edges.count && value >= edges[bin] { bin += 1 }
        bins[bin] += 1
        return value < low || value > high ? 1 : 0
    }

    /// Counts predicted class indices into categorical bins (not a class index: other; NaN: missing).
    func count(classIndices: [Double], into bins: UnsafeMutableBufferPointer<Int>) {
        for value in classIndices {
            let bin = value.isNaN ? missingBin : value >= 0 && value < Double(otherBin) && value.rounded(.down) == value ? Int(value) : otherBin
            bins[bin] += 1
        }
    }

    /// The categorical bin of a text cell: its level's, by exact text as the one-hot encoder
    /// matches categories; for a yes/no pair also either spelling in any case, or 1 or 0.
    func bin(ofText text: String) -> Int {
        if levels.count <= Self.scannedLevels {
            for (bin, level) in levels.enumerated() where level == text { return bin }
        } else if let bin = levelBins[text] {
            return bin
        }
        guard let boolean else { return otherBin }
        guard let value = boolean.value(of: text.trimmingSpaces) ?? Self.number(text) else { return missingBin }
        return bin(ofNumber: value)
    }

    /// The categorical bin of a numeric cell: for a yes/no pair 1 or 0; otherwise the level written
    /// as the number's shortest form, as the preprocessor reads a number sent for a category.
    func bin(ofNumber value: Double) -> Int {
        if value.isNaN { return missingBin }
        if boolean != nil { return value == 1 ? trueBin : value == 0 ? falseBin : otherBin }
        return numberBins[value] ?? otherBin
    }

    /// A number as the preprocessor reads a text cell for a numeric feature (spaces around it
    /// ignored, either decimal mark), without building an array.
    static func number(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { bytes -> Double? in
            var (start, end) = (0, bytes.count)
            while start < end && (bytes[start] == ASCII.space || bytes[start] == ASCII.tab) { start += 1 }
            while end > start && (bytes[end - 1] == ASCII.space || bytes[end - 1] == ASCII.tab) { end -= 1 }
            let trimmed = UnsafeBufferPointer(rebasing: bytes[start..<end])
            return NumberParser(decimalMark: ASCII.period).parse(trimmed) ?? NumberParser(decimalMark: ASCII.comma).parse(trimmed)
        }
    }
}

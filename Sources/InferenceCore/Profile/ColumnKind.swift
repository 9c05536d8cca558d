/// What a column is, as inferred from its values.
public enum ColumnKind: String, Sendable, Codable, CaseIterable {
    /// Numbers (sensor readings, quantities).
    case numeric
    /// Two text values such as yes/no or true/false.
    case boolean
    /// A limited set of text values (machine type, shift, supplier).
    case categorical
    /// Dates or date-times in one layout (see ``TimestampParser``): a model uses the calendar
    /// features derived from it, never the time itself.
    case timestamp
    /// A different text value in every row, or almost every row of a larger table (a serial
    /// number, a sample name): not a feature.
    case identifier
    /// No value in any row: not a feature.
    case empty

    /// Whether columns of this kind are used as model inputs by default.
    public var isFeature: Bool { self == .numeric || self == .boolean || self == .categorical || self == .timestamp }

    /// Infers the kind of a column from its values.
    public static func infer(_ values: ColumnValues) -> ColumnKind {
        classify(values).kind
    }

    /// The kind of a column, and for a timestamp column its times as read, so that a caller
    /// that needs them does not parse the column a second time.
    public static func classify(_ values: ColumnValues) -> (kind: ColumnKind, times: TimestampColumn?) {
        switch values {
        case .numeric(let numbers):
            return (numbers.allSatisfy(\.isNaN) ? .empty : .numeric, nil)
        case .text(let codes, let levels):
            let present = codes.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
            if present == 0 { return (.empty, nil) }
            if BooleanLevels(levels) != nil { return (.boolean, nil) }
            if let times = TimestampParser.column(codes: codes, levels: levels) { return (.timestamp, times) }
            // A different value in (almost) every row names the row rather than describing it.
            if levels.count == present && present >= 10 || present >= 50 && Double(levels.count) >= 0.9 * Double(present) {
                return (.identifier, nil)
            }
            return (.categorical, nil)
        }
    }
}

/// The two spellings of a boolean column and which one means `true`.
public struct BooleanLevels: Sendable, Codable, Equatable {
    public var falseText: String
    public var trueText: String

    enum CodingKeys: String, CodingKey {
        case falseText = "false_text"
        case trueText = "true_text"
    }

    private static let pairs: [(false: String, true: String)] = [
        ("false", "true"), ("no", "yes"), ("n", "y"), ("f", "t"), ("off", "on"),
    ]

    /// Recognises the levels of a boolean column, or returns `nil`.
    public init?(_ levels: [String]) {
        guard !levels.isEmpty, levels.count <= 2 else { return nil }
        let lowered = Set(levels.map { $0.lowercased() })
        guard lowered.count == levels.count,
              let pair = Self.pairs.first(where: { lowered.isSubset(of: [$0.false, $0.true]) }) else { return nil }
        falseText = levels.first { $0.lowercased() == pair.false } ?? pair.false
        trueText = levels.first { $0.lowercased() == pair.true } ?? pair.true
    }

    /// A text column of these spellings as 1 and 0, missing cells (and any other text) as NaN.
    public func numbers(codes: [Int32], levels: [String]) -> [Double] {
        let levelValues = levels.map { value(of: $0) ?? .nan }
        return codes.map { $0 < 0 ? .nan : levelValues[Int($0)] }
    }

    /// 1 for the true spelling, 0 for the false one (case-insensitive), `nil` otherwise.
    public func value(of text: String) -> Double? {
        let lowered = text.lowercased()
        if lowered == trueText.lowercased() { return 1 }
        if lowered == falseText.lowercased() { return 0 }
        return nil
    }
}

/// What a table holds, column by column, with the warnings a person should read before training.
public struct DatasetProfile: Sendable, Codable, Equatable {
    public struct CategoryCount: Sendable, Codable, Equatable {
        public var value: String
        public var count: Int
    }

    public struct ColumnProfile: Sendable, Codable, Equatable {
        public var name: String
        public var kind: ColumnKind
        public var missingCount: Int
        public var missingShare: Double
        public var distinctCount: Int
        /// For numeric columns.
        public var summary: NumericSummary?
        /// For text columns: the most frequent values, at most ten.
        public var topCategories: [CategoryCount]?
        /// For numeric columns: how the present values spread over the range.
        public var histogram: Histogram?
        /// For timestamp columns: span, typical step, gaps and order.
        public var time: TimeProfile?
        /// What a model predicting this column would do, as inferred when no task is given;
        /// `nil` for columns that cannot be a target (identifiers, empty columns).
        public var targetTask: LearningTask?
        public var notes: [String]

        enum CodingKeys: String, CodingKey {
            case name, kind, summary, notes
            case missingCount = "missing_count"
            case missingShare = "missing_share"
            case distinctCount = "distinct_count"
            case topCategories = "top_categories"
            case histogram, time
            case targetTask = "target_task"
        }
    }

    /// Counts of values in equal-width bins from `lower` to `upper` (the last bin includes `upper`).
    public struct Histogram: Sendable, Codable, Equatable {
        public var lower: Double
        public var upper: Double
        public var counts: [Int]

        /// The histogram of the present values of `values`, in `bins` bins (one when all are equal).
        init?(_ values: [Double], summary: NumericSummary?, bins: Int = 20) {
            guard let summary else { return nil }
            (lower, upper) = (summary.min, summary.max)
            guard upper > lower else {
                counts = [values.count(where: { !$0.isNaN })]
                return
            }
            // Halved when the range itself overflows (values near ±1.8e308): the bin of a value
            // is the same, and no step of it is infinite or NaN.
            let halve = !(upper - lower).isFinite
            let (low, high) = halve ? (lower / 2, upper / 2) : (lower, upper)
            let width = (high - low) / Double(bins)
            counts = [Int](repeating: 0, count: bins)
            for value in values where !value.isNaN {
                let position = ((halve ? value / 2 : value) - low) / width
                // Clamped before converting: an integer conversion of a value out of range traps.
                let bin = position.isFinite ? Int(Swift.min(Swift.max(position, 0), Double(bins - 1))) : bins - 1
                counts[bin] += 1
            }
        }
    }

    public var rows: Int
    public var delimiter: String
    public var decimalMark: String
    public var columns: [ColumnProfile]
    public var warnings: [String]

    enum CodingKeys: String, CodingKey {
        case rows, delimiter, columns, warnings
        case decimalMark = "decimal_mark"
    }

    /// Profiles every column of `table`. Columns with more than `maxCategories` levels are noted
    /// as capped, as the one-hot encoder will cap them.
    public init(_ table: DataTable, maxCategories: Int = OneHotEncoder.defaultMaxCategories) {
        rows = table.rowCount
        delimiter = String(UnicodeScalar(table.dialect.delimiter))
        decimalMark = String(UnicodeScalar(table.dialect.decimalMark))
        // Columns are profiled on every core the process may use; each lands in its own slot.
        columns = Parallelism.map(table.columns.count) { Self.profile(table.columns[$0], rows: table.rowCount, maxCategories: maxCategories) }
        warnings = columns.flatMap { column in column.notes.map { "\(column.name): \($0)" } }
    }

    /// Whether nearly every step from one row to the next is +1 (a row number, perhaps with a
    /// few rows removed): at least 10 rows and 99% of the steps.
    static func isRowCounter(_ values: [Double]) -> Bool {
        guard values.count >= 10 else { return false }
        var ones = 0
        for index in 1..<values.count where values[index] - values[index - 1] == 1 { ones += 1 }
        return Double(ones) >= 0.99 * Double(values.count - 1)
    }

    private static func profile(_ column: Column, rows: Int, maxCategories: Int) -> ColumnProfile {
        let (kind, times) = ColumnKind.classify(column.values)
        let missing = column.values.missingCount
        var notes: [String] = []
        var summary: NumericSummary?
        var top: [CategoryCount]?
        var histogram: Histogram?
        var time: TimeProfile?
        var targetTask: LearningTask?
        var distinct = 0
        switch column.values {
        case .numeric(let values):
            (summary, distinct) = NumericSummary.withDistinctCount(values)
            histogram = Histogram(values, summary: summary)
            if Self.isRowCounter(values) {
                notes.append("increases by one from row to row, as a row counter: it describes the file, not the rows; leave it out of the features (drop the column, or --exclude \(column.name) on the command line) unless the order itself matters")
            }
            targetTask = Target.inferredTask(numeric: true, distinctValues: distinct,
                                             allIntegers: values.allSatisfy { $0.isNaN || $0.rounded() == $0 })
            if distinct == 1 { notes.append("has a single value; it carries no information") }
        case .text(let codes, let levels):
            var counts = [Int](repeating: 0, count: levels.count)
            for code in codes where code >= 0 { counts[Int(code)] += 1 }
            distinct = levels.count
            top = zip(levels, counts).sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                .prefix(10).map { CategoryCount(value: $0.0, count: $0.1) }
            if kind == .boolean || kind == .categorical { targetTask = .classification }
            if kind == .identifier { notes.append("a different value in (almost) every row, as an identifier; left out of the features") }
            if let times {
                time = TimeProfile(format: times.format, seconds: times.seconds)
                notes += (time?.notes ?? []) + [times.oddNote].compactMap { $0 }
            } else if case .mixed(let majority, let row, let text) = TimestampParser.detect(codes: codes, levels: levels) {
                notes.append("mostly times written as \(majority.description), but row \(row + 1) has '\(text)' and more than 1 in 100 cells are not times in that form; it is not used as a time until they are")
            }
            if kind == .categorical && distinct > maxCategories {
                notes.append("has \(distinct) distinct values; the \(maxCategories - 1) most frequent are kept as categories and the rest grouped as 'other'")
            }
            if kind == .categorical && distinct == 1 { notes.append("has a single value; it carries no information") }
        }
        if kind == .empty { notes.append("has no values; left out of the features") }
        let share = rows > 0 ? Double(missing) / Double(rows) : 0
        if kind != .empty && share >= 0.3 {
            notes.append("\(Int((share * 100).rounded()))% of its cells are missing; they are imputed")
        }
        return ColumnProfile(name: column.name, kind: kind, missingCount: missing, missingShare: share,
                             distinctCount: distinct, summary: summary, topCategories: top, histogram: histogram, time: time,
                             targetTask: kind == .empty || distinct < 2 ? nil : targetTask, notes: notes)
    }
}

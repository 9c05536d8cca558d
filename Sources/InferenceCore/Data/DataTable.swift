/// The values of one column as read from a file.
public enum ColumnValues: Sendable, Equatable {
    /// Numbers; a missing cell is `NaN`.
    case numeric([Double])
    /// Text as codes into `levels` (in order of first appearance); a missing cell is `-1`.
    case text(codes: [Int32], levels: [String])

    public var count: Int {
        switch self {
        case .numeric(let values): return values.count
        case .text(let codes, _): return codes.count
        }
    }

    /// The number of missing cells.
    public var missingCount: Int {
        switch self {
        case .numeric(let values): return values.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
        case .text(let codes, _): return codes.reduce(0) { $0 + ($1 < 0 ? 1 : 0) }
        }
    }

    /// Whether the cell at `row` is missing.
    public func isMissing(at row: Int) -> Bool {
        switch self {
        case .numeric(let values): return values[row].isNaN
        case .text(let codes, _): return codes[row] < 0
        }
    }

    /// The cells as text codes and levels (numbers written in their shortest form, as levels in
    /// order of first appearance), whether the column was read as text or as numbers.
    var textCodes: (codes: [Int32], levels: [String]) {
        switch self {
        case .text(let codes, let levels):
            return (codes, levels)
        case .numeric(let numbers):
            var levels = LevelIndex()
            return (numbers.map { $0.isNaN ? -1 : levels.code(for: formatNumber($0)) }, levels.levels)
        }
    }

    /// The cell at `row` as text (`nil` when missing); numbers are written in their shortest form.
    public func text(at row: Int) -> String? {
        switch self {
        case .numeric(let values): return values[row].isNaN ? nil : formatNumber(values[row])
        case .text(let codes, let levels): return codes[row] < 0 ? nil : levels[Int(codes[row])]
        }
    }

    /// The values at `rows`, in that order.
    public func selecting(_ rows: [Int]) -> ColumnValues {
        switch self {
        case .numeric(let values): return .numeric(rows.map { values[$0] })
        case .text(let codes, let levels): return .text(codes: rows.map { codes[$0] }, levels: levels)
        }
    }
}

/// A named column of a ``DataTable``.
public struct Column: Sendable, Equatable {
    public var name: String
    public var values: ColumnValues

    public init(name: String, values: ColumnValues) {
        self.name = name
        self.values = values
    }
}

/// A table of columns as read from a CSV file, before any interpretation as features.
public struct DataTable: Sendable, Equatable {
    public var columns: [Column]
    public var rowCount: Int
    /// The dialect the file was read with.
    public var dialect: CSVDialect

    public init(columns: [Column], dialect: CSVDialect = CSVDialect()) {
        let rowCount = columns.first?.values.count ?? 0
        precondition(columns.allSatisfy { $0.values.count == rowCount }, "columns must have equal length")
        self.columns = columns
        self.rowCount = rowCount
        self.dialect = dialect
    }

    public var columnNames: [String] { columns.map(\.name) }

    /// Whether both tables hold the same cells under the same names and dialect, numbers compared
    /// by their bits: a missing cell (NaN) matches a missing cell, which `==` on numbers denies.
    public func isIdentical(to other: DataTable) -> Bool {
        guard rowCount == other.rowCount, dialect == other.dialect, columns.count == other.columns.count else { return false }
        return zip(columns, other.columns).allSatisfy { mine, theirs in
            guard mine.name == theirs.name else { return false }
            switch (mine.values, theirs.values) {
            case (.numeric(let a), .numeric(let b)): return a.elementsEqual(b) { $0.bitPattern == $1.bitPattern }
            case (.text(let a, let aLevels), .text(let b, let bLevels)): return a == b && aLevels == bLevels
            default: return false
            }
        }
    }

    /// The column called `name`, or an error that lists the columns that exist.
    public func column(named name: String) throws -> Column {
        guard let column = columns.first(where: { $0.name == name }) else {
            throw TestbedError(.unknownColumn, "there is no column '\(name.clipped())'; the columns are: \(columnNames.map { "'\($0)'" }.joined(separator: ", "))")
        }
        return column
    }

    /// The table restricted to `rows`, in that order.
    public func selectingRows(_ rows: [Int]) -> DataTable {
        DataTable(columns: columns.map { Column(name: $0.name, values: $0.values.selecting(rows)) }, dialect: dialect)
    }

    /// Builds a table from rows of text cells (as from JSON or a form); `nil` is a missing cell.
    /// Each column is numeric when all its present cells are numbers.
    public init(names: [String], rows: [[String?]]) {
        let parser = NumberParser(decimalMark: ASCII.period)
        var columns: [Column] = []
        for (index, name) in names.enumerated() {
            let cells = rows.map { $0[index].flatMap { MissingValue.isMissing($0) ? nil : $0 } }
            let numbers = cells.map { cell in cell.map { parser.parse($0) } }
            if numbers.indices.allSatisfy({ cells[$0] == nil || numbers[$0]! != nil }) {
                columns.append(Column(name: name, values: .numeric(numbers.map { $0.flatMap { $0 } ?? .nan })))
            } else {
                var levels = LevelIndex()
                let codes = cells.map { $0.map { levels.code(for: $0) } ?? -1 }
                columns.append(Column(name: name, values: .text(codes: codes, levels: levels.levels)))
            }
        }
        self.init(columns: columns)
    }
}

/// The spellings of a missing cell in real exports.
public enum MissingValue {
    /// Lower-case tokens that mean "missing", besides the empty cell.
    public static let tokens: Set<String> = ["na", "n/a", "nan", "null", "?"]

    public static func isMissing(_ text: String) -> Bool {
        let trimmed = text.trimmingSpaces
        return trimmed.isEmpty || tokens.contains(trimmed.lowercased())
    }

    /// The same test on raw bytes, without building a string.
    @inline(__always)
    static func isMissing(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        switch bytes.count {
        case 0: return true
        case 1: return bytes[0] == UInt8(ascii: "?")
        case 2: return bytes[0] | 0x20 == UInt8(ascii: "n") && bytes[1] | 0x20 == UInt8(ascii: "a")
        case 3:
            let first = bytes[0] | 0x20, second = bytes[1], third = bytes[2] | 0x20
            return first == UInt8(ascii: "n") && second == UInt8(ascii: "/") && third == UInt8(ascii: "a")
                || first == UInt8(ascii: "n") && second | 0x20 == UInt8(ascii: "a") && third == UInt8(ascii: "n")
        case 4:
            return bytes[0] | 0x20 == UInt8(ascii: "n") && bytes[1] | 0x20 == UInt8(ascii: "u")
                && bytes[2] | 0x20 == UInt8(ascii: "l") && bytes[3] | 0x20 == UInt8(ascii: "l")
        default: return false
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

/// Shortest round-trip text for a number; integral values without a trailing `.0`.
public func formatNumber(_ value: Double) -> String {
    if value.rounded() == value && abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
}

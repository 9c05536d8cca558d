import Foundation
import InferenceCore

/// One cell of a JSON row: a number, a string, true/false or null.
enum JSONCell: Decodable, Sendable {
    case null
    case number(Double)
    case string(String)
    case bool(Bool)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let number = try? container.decode(Double.self) { self = .number(number); return }
        if let text = try? container.decode(String.self) { self = .string(text); return }
        if let flag = try? container.decode(Bool.self) { self = .bool(flag); return }
        throw DecodingError.typeMismatch(JSONCell.self, .init(codingPath: decoder.codingPath,
            debugDescription: "expected a number, a string, true/false or null, not an array or object"))
    }

    /// A JSON scalar as a cell; `nil` for an array or an object.
    init?(_ node: JSONNode) {
        switch node {
        case .null: self = .null
        case .number(let number): self = .number(number)
        case .string(let text): self = .string(text)
        case .bool(let flag): self = .bool(flag)
        case .array, .numbers, .object: return nil
        }
    }

    /// The cell as CSV would hold it; `nil` when missing.
    var text: String? {
        switch self {
        case .null: return nil
        case .number(let value): return formatNumber(value)
        case .string(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        }
    }
}

/// Builds the core's ``DataTable`` from rows sent as JSON objects.
enum TableInput {
    /// Columns are the union of the rows' keys; a key absent from a row is a missing cell. A
    /// column whose present cells are all numbers is numeric, otherwise text.
    static func table(fromRows rows: [[String: JSONCell]], limits: Limits) throws -> DataTable {
        guard !rows.isEmpty else { throw APIError.badRequest("'rows' is empty; send at least one row as {\"column\": value, …}") }
        if let empty = rows.firstIndex(where: \.isEmpty) {
            throw APIError.badRequest("rows[\(empty)] is empty; send at least one of the model's inputs in each row as {\"column\": value, …}")
        }
        try limits.checkRows(rows.count)
        var names: [String] = []
        var seen: Set<String> = []
        for row in rows { for key in row.keys.sorted() where seen.insert(key).inserted { names.append(key) } }
        guard names.count <= limits.maxColumns else {
            throw APIError.badRequest("the rows have \(names.count) columns; this server accepts at most \(limits.maxColumns) (--max-columns)")
        }
        let columns = names.map { name -> Column in
            var numbers = [Double](repeating: .nan, count: rows.count)
            var allNumbers = true
            for (index, row) in rows.enumerated() {
                switch row[name] {
                case .number(let value)?: numbers[index] = value
                case .null?, nil: break
                default: allNumbers = false
                }
                if !allNumbers { break }
            }
            return Column(name: name, values: allNumbers ? .numeric(numbers) : textValues(rows.map { $0[name]?.text }))
        }
        return DataTable(columns: columns)
    }

    /// Text cells as codes into levels in order of first appearance; `nil` and the spellings of
    /// "missing" are missing cells.
    static func textValues(_ cells: [String?]) -> ColumnValues {
        var levels: [String] = [], index: [String: Int32] = [:]
        let codes = cells.map { cell -> Int32 in
            guard let text = cell, !MissingValue.isMissing(text) else { return -1 }
            if let code = index[text] { return code }
            index[text] = Int32(levels.count)
            levels.append(text)
            return Int32(levels.count - 1)
        }
        return .text(codes: codes, levels: levels)
    }

    /// Per row, a warning for each key the model does not use.
    static func extraColumnWarnings(_ rows: [[String: JSONCell]], model: TrainedModel) -> [[String]] {
        let used = Set(model.preprocessor.inputColumns)
        return rows.map { row in
            row.keys.filter { !used.contains($0) && $0 != model.target }.sorted().map { "\($0): not used by the model; ignored" }
        }
    }

    /// The same warnings for a table read from CSV, where every row has the same columns.
    static func extraColumnWarnings(_ table: DataTable, model: TrainedModel) -> [[String]] {
        let used = Set(model.preprocessor.inputColumns)
        let extra = table.columnNames.filter { !used.contains($0) && $0 != model.target }.map { "\($0): not used by the model; ignored" }
        return [[String]](repeating: extra, count: table.rowCount)
    }
}

import InferenceCore

/// The JSON bodies of MLflow's scoring protocol (`mlflow models serve`, `/invocations`), read into
/// rows of the model's input table. Exactly one of four keys carries the rows:
/// - `dataframe_split`: `{"columns": [...], "data": [[...], ...]}` (pandas' split orient; `index` ignored);
/// - `dataframe_records`: `[{"column": value, ...}, ...]`;
/// - `instances` and `inputs`: rows as objects, as arrays in the model's input order, as scalars
///   for a model of one input, or (`inputs` only, and `instances` as TensorFlow Serving allows)
///   one object of columns, `{"column": [values...]}`.
/// `params` is accepted and ignored: these models take no inference parameters. A body that is
/// none of these is 400; one whose parts disagree (rows of another width than the columns, a
/// column named twice) or do not fit the model is 422, as the API's description cannot say so.
enum MLflowInput {
    static let formats = ["dataframe_split", "dataframe_records", "instances", "inputs"]

    /// The model's input table from a JSON body in any of the four shapes.
    static func table(_ json: JSONNode, model: TrainedModel, limits: Limits) throws -> DataTable {
        let rows = try rows(json, inputColumns: model.preprocessor.inputColumns, limits: limits)
        guard !rows.isEmpty else { throw APIError.badRequest("the body holds no rows; send at least one") }
        return try TableInput.table(fromRows: rows, limits: limits)
    }

    /// Refuses a table of too many rows or without every input of the model: MLflow enforces the
    /// model's input schema, and filling a missing column in silently would answer a question
    /// the client did not ask.
    static func checkColumns(_ table: DataTable, model: TrainedModel, name: String, limits: Limits) throws {
        try limits.checkRows(table.rowCount)
        let present = Set(table.columnNames)
        let missing = model.preprocessor.inputColumns.filter { !present.contains($0) }
        guard missing.isEmpty else {
            throw APIError.doesNotFit("the rows lack the model's input\(missing.count == 1 ? "" : "s") \(missing.map { "'\($0.clipped())'" }.joined(separator: ", ").clipped(to: 400)); it reads \(model.preprocessor.inputColumns.count) columns (GET /api/v1/models/\(name.clipped()) lists them)")
        }
    }

    /// The rows, each a cell per column it names. The number of rows is checked against `limits`
    /// before any row is built: a row costs far more than its bytes in the body.
    static func rows(_ json: JSONNode, inputColumns: [String], limits: Limits) throws -> [[String: JSONCell]] {
        guard case .object(let members) = json else {
            throw APIError.badRequest("the body must be a JSON object with one of \(quoted(formats)), as MLflow's scoring server takes; found \(json.kind)")
        }
        let given = members.map(\.0).filter { formats.contains($0) }
        guard given.count == 1, let format = given.first, let payload = json[format] else {
            let unknown = members.map(\.0).filter { !formats.contains($0) && $0 != "params" }
            throw APIError.badRequest("the body must have exactly one of \(quoted(formats)); it has \(given.isEmpty ? "none" : quoted(given))"
                + (unknown.isEmpty ? "" : " (and \(quoted(unknown).clipped(to: 200)), which MLflow does not define)"))
        }
        switch format {
        case "dataframe_split": return try split(payload, limits: limits)
        case "dataframe_records": return try records(payload, field: format, limits: limits)
        default: return try instances(payload, field: format, inputColumns: inputColumns, limits: limits)
        }
    }

    /// `{"columns": [...], "data": [[...]]}`.
    private static func split(_ payload: JSONNode, limits: Limits) throws -> [[String: JSONCell]] {
        guard payload.isObject else { throw error("dataframe_split", #"an object {"columns": [...], "data": [[...], ...]}"#, payload) }
        guard case .array(let names)? = payload["columns"] else {
            throw error("dataframe_split.columns", "an array of column names", payload["columns"])
        }
        let columns = try names.enumerated().map { index, name in
            guard case .string(let text) = name else { throw error("dataframe_split.columns[\(index)]", "a column name", name) }
            return text
        }
        guard Set(columns).count == columns.count else { throw APIError.doesNotFit("dataframe_split.columns names a column twice") }
        let data: [JSONNode]
        switch payload["data"] {
        case .array(let rows)?: data = rows
        case .numbers(let values)? where values.isEmpty: data = []
        case let other: throw error("dataframe_split.data", "an array of rows, each an array of values", other)
        }
        try limits.checkRows(data.count)
        return try data.enumerated().map { index, row in
            let values = try array(row, field: "dataframe_split.data[\(index)]")
            guard values.count == columns.count else {
                throw APIError.doesNotFit("dataframe_split.data[\(index)] has \(values.count) values for \(columns.count) columns")
            }
            return Dictionary(zip(columns, values), uniquingKeysWith: { first, _ in first })
        }
    }

    /// `[{"column": value, ...}, ...]`.
    private static func records(_ payload: JSONNode, field: String, limits: Limits) throws -> [[String: JSONCell]] {
        guard case .array(let rows) = payload else { throw error(field, "an array of objects {\"column\": value, …}", payload) }
        try limits.checkRows(rows.count)
        return try rows.enumerated().map { try record($1, field: "\(field)[\($0)]") }
    }

    /// Rows as objects, arrays or scalars, or one object of columns.
    private static func instances(_ payload: JSONNode, field: String, inputColumns: [String], limits: Limits) throws -> [[String: JSONCell]] {
        switch payload {
        case .object(let members):
            // Columnar: each column an array of values (or one value, for a single row).
            var columns: [(String, [JSONCell])] = []
            for (name, node) in members {
                columns.append((name, node.isArray ? try array(node, field: "\(field).\(name)") : [try cell(node, field: "\(field).\(name)")]))
            }
            let count = columns.first?.1.count ?? 0
            if let ragged = columns.first(where: { $0.1.count != count }) {
                throw APIError.doesNotFit("\(field): column '\(ragged.0.clipped())' has \(ragged.1.count) values, but '\(columns[0].0.clipped())' has \(count)")
            }
            try limits.checkRows(count)
            return (0..<count).map { row in Dictionary(columns.map { ($0.0, $0.1[row]) }, uniquingKeysWith: { first, _ in first }) }
        case .numbers(let values):
            try limits.checkRows(values.count)
            return try values.map { [try single(inputColumns, field: field): .number($0)] }
        case .array(let rows):
            try limits.checkRows(rows.count)
            return try rows.enumerated().map { index, row in
                let place = "\(field)[\(index)]"
                switch row {
                case .object: return try record(row, field: place)
                case .array, .numbers:
                    let values = try array(row, field: place)
                    guard values.count == inputColumns.count else {
                        throw APIError.doesNotFit("\(place) has \(values.count) values; a row as an array needs the model's \(inputColumns.count) inputs in order: \(quoted(inputColumns).clipped(to: 300))")
                    }
                    return Dictionary(zip(inputColumns, values), uniquingKeysWith: { first, _ in first })
                default:
                    return [try single(inputColumns, field: place): try cell(row, field: place)]
                }
            }
        default:
            throw error(field, "an array of rows or an object of columns", payload)
        }
    }

    /// The one input a bare value can be for.
    private static func single(_ inputColumns: [String], field: String) throws -> String {
        guard inputColumns.count == 1 else {
            throw APIError.doesNotFit("\(field): a bare value fits a model of one input; this model has \(inputColumns.count): send each row as an object {\"column\": value, …} or an array in the order \(quoted(inputColumns).clipped(to: 300))")
        }
        return inputColumns[0]
    }

    private static func record(_ node: JSONNode, field: String) throws -> [String: JSONCell] {
        guard case .object(let members) = node else { throw error(field, "an object {\"column\": value, …}", node) }
        return try Dictionary(members.map { name, value in (name, try cell(value, field: "\(field).\(name)")) }, uniquingKeysWith: { _, last in last })
    }

    private static func array(_ node: JSONNode, field: String) throws -> [JSONCell] {
        switch node {
        case .numbers(let values): return values.map(JSONCell.number)
        case .array(let elements): return try elements.enumerated().map { try cell($1, field: "\(field)[\($0)]") }
        default: throw error(field, "an array of values", node)
        }
    }

    private static func cell(_ node: JSONNode, field: String) throws -> JSONCell {
        guard let cell = JSONCell(node) else { throw error(field, "a number, a string, true/false or null", node) }
        return cell
    }

    private static func error(_ field: String, _ expected: String, _ found: JSONNode?) -> APIError {
        APIError.badRequest("\(field): expected \(expected), found \(found?.kind ?? "nothing")", code: "invalid_json")
    }

    private static func quoted(_ names: [String]) -> String {
        names.map { "'\($0.clipped())'" }.joined(separator: ", ")
    }
}

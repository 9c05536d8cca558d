import InferenceCore

/// Reads the input tensors of an inference request as the model's input table, in either form
/// the protocol allows: one `[N, F]` tensor in feature order, or one tensor per column named
/// after it (BYTES for text, as MLServer's `pd` content type sends them).
enum TensorInput {
    typealias P = InferenceProtocol

    static func table(_ inputs: [P.InputTensor], model: TrainedModel, limits: Limits) throws -> DataTable {
        let features = model.preprocessor.inputColumns
        guard !inputs.isEmpty else {
            throw APIError.badRequest("'inputs' is empty; send one [N, \(features.count)] tensor in the order \(features) or one tensor per column")
        }
        for input in inputs { try check(input) }
        let times = Set(model.features.filter { $0.kind == .timestamp }.map(\.name))
        if inputs.count == 1, !features.contains(inputs[0].name) {
            if let time = times.first {
                throw APIError.badRequest("the model reads the date or time '\(time.clipped())', which a numeric [N, \(features.count)] tensor cannot carry; send one tensor per column, with '\(time.clipped())' as BYTES")
            }
            return try matrixTable(inputs[0], features: features, limits: limits)
        }
        if let input = inputs.first(where: { times.contains($0.name) && $0.datatype != "BYTES" }) {
            throw APIError.badRequest("input '\(input.name.clipped())' is a date or time: send it as BYTES, such as \"2026-01-05 13:45:00\", not \(input.datatype)")
        }
        let table = try columnTable(inputs, features: features, limits: limits)
        // /predict warns about an unreadable date and treats it as missing; V2 has no warnings,
        // so a silent "missing" answer would look like a real one.
        if let odd = model.firstUnreadableTime(in: table) {
            throw APIError.badRequest("input '\(odd.column.clipped())', element \(odd.row): '\(odd.text.clipped(to: 40))' is not a date or time the model can read; send it as the training data wrote it or in ISO 8601 (2026-01-05 13:45:00)")
        }
        return table
    }

    /// Datatype known, shape non-negative and equal to the amount of data, data of the datatype.
    private static func check(_ input: P.InputTensor) throws {
        let name = input.name.clipped()
        guard P.allTypes.contains(input.datatype) else { throw P.unsupported(datatype: input.datatype, input: input.name) }
        let expected = try P.elementCount(input.shape, input: input.name)
        guard expected == input.values.count else {
            throw APIError.badRequest("input '\(name)': shape \(input.shape) holds \(expected) values but data has \(input.values.count)")
        }
        switch input.values {
        case .cells(let cells):
            // The datatype is looked up once; the loop runs over every element of large batches.
            let (numeric, integer) = (P.numericTypes.contains(input.datatype), P.integerTypes.contains(input.datatype))
            let (bytes, bool) = (input.datatype == "BYTES", input.datatype == "BOOL")
            for (index, cell) in cells.enumerated() {
                switch cell {
                case .number(let value) where numeric:
                    guard value.isFinite else { throw APIError.badRequest("input '\(name)', element \(index): \(value) is not a finite number") }
                    if integer && value.rounded() != value {
                        throw APIError.badRequest("input '\(name)', element \(index): \(value) is not an integer, but the datatype is \(input.datatype)")
                    }
                case .string where bytes, .null where bytes, .bool where bool:
                    continue
                default:
                    throw APIError.badRequest("input '\(name)', element \(index): \(describe(cell)) does not match datatype \(input.datatype)")
                }
            }
        case .numbers(let numbers):
            guard input.datatype != "BYTES" else { throw APIError.badRequest("input '\(name)': its elements are numbers, but the datatype is BYTES") }
            if let index = numbers.firstIndex(where: { !$0.isFinite }) {
                throw APIError.badRequest("input '\(name)', element \(index): \(numbers[index]) is not a finite number")
            }
        case .texts:
            guard input.datatype == "BYTES" else { throw APIError.badRequest("input '\(name)': its elements are text, but the datatype is \(input.datatype)") }
        }
    }

    private static func matrixTable(_ input: P.InputTensor, features: [String], limits: Limits) throws -> DataTable {
        guard input.shape.count == 2, input.shape[1] == features.count, input.datatype != "BYTES" else {
            throw APIError.badRequest("input '\(input.name.clipped())' is not a column of the model, so it must be one numeric tensor of shape [N, \(features.count)] in the order \(features); got \(input.datatype) \(input.shape)")
        }
        let rows = input.shape[0]
        try limits.checkRows(rows)
        let values = numbers(input.values)
        let columns = features.enumerated().map { column, name in
            Column(name: name, values: .numeric((0..<rows).map { values[$0 * features.count + column] }))
        }
        return DataTable(columns: columns)
    }

    private static func columnTable(_ inputs: [P.InputTensor], features: [String], limits: Limits) throws -> DataTable {
        var seen = Set<String>()
        let known = Set(features)
        let rows = inputs[0].shape[0]
        try limits.checkRows(rows)
        let columns = try inputs.map { input -> Column in
            guard known.contains(input.name) else {
                throw APIError.badRequest("input '\(input.name.clipped())' is not a column of the model; its inputs are \(features) (or send one [N, \(features.count)] tensor)")
            }
            guard seen.insert(input.name).inserted else { throw APIError.badRequest("input '\(input.name.clipped())' is given twice") }
            guard input.shape == [rows] || input.shape == [rows, 1] else {
                throw APIError.badRequest("input '\(input.name.clipped())' has shape \(input.shape); every column tensor must be [\(rows)] or [\(rows), 1], like the first")
            }
            if input.datatype == "BYTES" {
                return Column(name: input.name, values: TableInput.textValues(texts(input.values)))
            }
            return Column(name: input.name, values: .numeric(numbers(input.values)))
        }
        let absent = features.filter { !seen.contains($0) }
        guard absent.isEmpty else {
            throw APIError.badRequest("the inputs lack the column\(absent.count == 1 ? "" : "s") \(absent); the model needs \(features)")
        }
        return DataTable(columns: columns)
    }

    /// The elements as numbers (checked to be of a numeric or BOOL datatype by now).
    private static func numbers(_ values: P.TensorValues) -> [Double] {
        switch values {
        case .cells(let cells): cells.map(number)
        case .numbers(let numbers): numbers
        case .texts(let texts): [Double](repeating: .nan, count: texts.count)
        }
    }

    /// The elements of a BYTES tensor; `nil` where JSON sent null.
    private static func texts(_ values: P.TensorValues) -> [String?] {
        switch values {
        case .cells(let cells): cells.map { cell in if case .string(let text) = cell { text } else { nil } }
        case .texts(let texts): texts
        case .numbers(let numbers): [String?](repeating: nil, count: numbers.count)
        }
    }

    private static func number(_ cell: JSONCell) -> Double {
        switch cell {
        case .number(let value): return value
        case .bool(let flag): return flag ? 1 : 0
        default: return .nan
        }
    }

    private static func describe(_ cell: JSONCell) -> String {
        switch cell {
        case .null: return "null"
        case .number(let value): return "the number \(formatNumber(value))"
        case .string(let text): return "the string \"\(text.prefix(40))\""
        case .bool(let flag): return "\(flag)"
        }
    }
}

/// Options for reading a CSV file. `nil` means "sniff from the file".
public struct CSVReadOptions: Sendable {
    /// The field delimiter; sniffed among `,` `;` tab `|` when `nil`.
    public var delimiter: UInt8?
    /// The decimal mark, `.` or `,`; sniffed when `nil`.
    public var decimalMark: UInt8?
    /// Columns to keep as text even when every cell is a number (a class label such as `1`).
    public var textColumns: Set<String>

    public init(delimiter: UInt8? = nil, decimalMark: UInt8? = nil, textColumns: Set<String> = []) {
        self.delimiter = delimiter
        self.decimalMark = decimalMark
        self.textColumns = textColumns
    }
}

/// Reads CSV exports into a ``DataTable``, parsing bytes in fixed-size chunks.
///
/// Memory stays close to the size of the parsed columns: the file is never held whole,
/// and the columns are sized from the first chunk's bytes per row.
public struct CSVReader: Sendable {
    public var options: CSVReadOptions
    /// The size of one read from the source; a record longer than this grows the buffer.
    var chunkSize = 1 << 20

    public init(options: CSVReadOptions = CSVReadOptions()) {
        self.options = options
    }

    /// Reads the CSV file at `path`.
    public func read(file path: String) throws -> DataTable {
        try read(.file(path: path))
    }

    /// Reads CSV text held in memory (an upload, a test).
    public func read(bytes: [UInt8]) throws -> DataTable {
        try read(.memory(bytes))
    }

    private func read(_ source: ByteSource) throws -> DataTable {
        let first = try parse(source, textColumns: options.textColumns)
        guard !first.lossyColumns.isEmpty else { return first.table }
        // Some column turned out to be text after numbers were read into it: read it as text throughout.
        return try parse(source, textColumns: options.textColumns.union(first.lossyColumns)).table
    }

    private func parse(_ source: ByteSource, textColumns: Set<String>) throws -> (table: DataTable, lossyColumns: Set<String>) {
        let stream = try source.open()
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var filled = 0
        var position = 0
        var endOfInput = false

        func refill() throws {
            if position > 0 {
                buffer.withUnsafeMutableBufferPointer { bytes in
                    let remaining = filled - position
                    if remaining > 0 { bytes.baseAddress!.update(from: bytes.baseAddress! + position, count: remaining) }
                }
                filled -= position
                position = 0
            }
            if filled == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let count = try buffer.withUnsafeMutableBufferPointer { bytes in
                try stream.read(into: UnsafeMutableBufferPointer(rebasing: bytes[filled...]))
            }
            filled += count
            if count == 0 { endOfInput = true }
        }

        // Fill the first chunk completely so that sniffing sees enough lines.
        while filled < buffer.count && !endOfInput { try refill() }
        if filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { position = 3 }
        guard buffer[position..<filled].contains(where: { $0 != ASCII.newline && $0 != ASCII.carriageReturn && $0 != ASCII.space }) else {
            throw TestbedError(.malformedCSV, "the file is empty; expected a header row naming the columns, then one row per record")
        }
        let dialect = resolveDialect(buffer[position..<filled])
        let recordParser = CSVRecordParser(delimiter: dialect.delimiter)
        let numberParser = NumberParser(decimalMark: dialect.decimalMark)

        var fields: [FieldRange] = []
        fields.reserveCapacity(64)
        var line = 1
        var builders: [ColumnBuilder] = []
        var header: [String] = []
        var rowCount = 0
        var reserved = false
        var scratch: [UInt8] = []

        while true {
            if position == filled && endOfInput { break }
            let progressed: Bool = try buffer.withUnsafeBufferPointer { whole in
                let bytes = UnsafeBufferPointer(rebasing: whole[0..<filled])
                var progressed = false
                while position < filled || (endOfInput && position < filled) {
                    let parsed: (next: Int, lineBreaks: Int)?
                    do {
                        parsed = try recordParser.parse(bytes, from: position, atEndOfInput: endOfInput, into: &fields)
                    } catch RecordProblem.unterminatedQuote {
                        throw TestbedError(.malformedCSV, "line \(line): a quoted field is not closed before the end of the file; expected a closing '\"'")
                    } catch {
                        throw TestbedError(.malformedCSV, "line \(line): unexpected text after a closing quote; a quote inside a quoted field must be doubled (\"\")")
                    }
                    guard let (next, lineBreaks) = parsed else { break }
                    progressed = true
                    defer { position = next; line += lineBreaks }

                    if header.isEmpty && builders.isEmpty {
                        header = try headerNames(bytes, fields, scratch: &scratch)
                        builders = header.map { ColumnBuilder(name: $0, readAsText: textColumns.contains($0)) }
                        continue
                    }
                    if fields.count != builders.count {
                        if fields.count == 1 && fields[0].start == fields[0].end && !fields[0].quoted { continue }  // a blank line
                        throw TestbedError(.malformedCSV, "line \(line): found \(fields.count) fields, expected \(builders.count) as in the header (delimiter \(ASCII.name(of: dialect.delimiter))); a value that contains the delimiter must be quoted")
                    }
                    for column in 0..<fields.count {
                        let cell = cellBytes(bytes, fields[column], scratch: &scratch)
                        let ok = cell.withUnsafeBufferPointer { cell in
                            if MissingValue.isMissing(cell) { builders[column].appendMissing(); return true }
                            return builders[column].append(cell, parser: numberParser)
                        }
                        guard ok else {
                            throw TestbedError(.malformedCSV, "line \(line), column '\(builders[column].name)': the bytes are not valid UTF-8; save the file as UTF-8 (in Excel: \"CSV UTF-8\")")
                        }
                    }
                    rowCount += 1
                }
                return progressed
            }
            if !reserved && rowCount > 0 {
                // Size the columns from the first chunk's bytes per row, with a little slack.
                reserved = true
                let estimate = Int(Double(stream.size) / Double(max(position, 1)) * Double(rowCount) * 1.02) + 16
                for index in builders.indices { builders[index].reserve(estimate) }
            }
            if !progressed || position == filled {
                if endOfInput { break }
                try refill()
            }
        }

        guard !builders.isEmpty else {
            throw TestbedError(.malformedCSV, "the file is empty; expected a header row naming the columns, then one row per record")
        }
        guard rowCount > 0 else {
            throw TestbedError(.malformedCSV, "the file has a header (\(builders.count) columns) but no data rows; expected at least one row below the header")
        }
        let lossy = Set(builders.filter(\.lostNumberSpelling).map(\.name))
        return (DataTable(columns: builders.map { $0.build() }, dialect: dialect), lossy)
    }

    private func resolveDialect(_ sample: ArraySlice<UInt8>) -> CSVDialect {
        var dialect = sample.withUnsafeBufferPointer { CSVDialect.sniff($0, delimiter: options.delimiter) }
        if let mark = options.decimalMark { dialect.decimalMark = mark }
        return dialect
    }

    /// The cell's bytes: spaces trimmed from unquoted cells, doubled quotes collapsed in quoted ones.
    @inline(__always)
    private func cellBytes(_ bytes: UnsafeBufferPointer<UInt8>, _ field: FieldRange, scratch: inout [UInt8]) -> CellBytes {
        if field.escaped {
            scratch.removeAll(keepingCapacity: true)
            var index = field.start
            while index < field.end {
                scratch.append(bytes[index])
                index += bytes[index] == ASCII.quote ? 2 : 1
            }
            return .scratch(scratch)
        }
        var start = field.start, end = field.end
        if !field.quoted {
            while start < end && (bytes[start] == ASCII.space || bytes[start] == ASCII.tab) { start += 1 }
            while end > start && (bytes[end - 1] == ASCII.space || bytes[end - 1] == ASCII.tab) { end -= 1 }
        }
        return .slice(UnsafeBufferPointer(rebasing: bytes[start..<end]))
    }

    private func headerNames(_ bytes: UnsafeBufferPointer<UInt8>, _ fields: [FieldRange], scratch: inout [UInt8]) throws -> [String] {
        var names: [String] = []
        var seen: [String: Int] = [:]
        for (index, field) in fields.enumerated() {
            let cell = cellBytes(bytes, field, scratch: &scratch)
            guard let raw = cell.withUnsafeBufferPointer({ String(validating: $0, as: UTF8.self) }) else {
                throw TestbedError(.malformedCSV, "line 1 (header), column \(index + 1): the bytes are not valid UTF-8; save the file as UTF-8 (in Excel: \"CSV UTF-8\")")
            }
            let name = raw.trimmingSpaces.isEmpty ? "column_\(index + 1)" : raw.trimmingSpaces
            if let previous = seen[name] {
                throw TestbedError(.malformedCSV, "line 1 (header): the column name '\(name)' appears twice (columns \(previous + 1) and \(index + 1)); column names must be unique")
            }
            seen[name] = index
            names.append(name)
        }
        return names
    }
}

/// A cell's bytes, either in place in the parse buffer or collapsed into a scratch copy.
private enum CellBytes {
    case slice(UnsafeBufferPointer<UInt8>)
    case scratch([UInt8])

    @inline(__always)
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch self {
        case .slice(let pointer): return try body(pointer)
        case .scratch(let array): return try array.withUnsafeBufferPointer(body)
        }
    }
}

/// Options for reading a CSV file. `nil` means "sniff from the file".
public struct CSVReadOptions: Sendable {
    /// The field delimiter; sniffed among `,` `;` tab `|` when `nil`.
    public var delimiter: UInt8?
    /// The decimal mark, `.` or `,`; sniffed when `nil`.
    public var decimalMark: UInt8?
    /// Columns to keep as text even when every cell is a number (a class label such as `1`).
    public var textColumns: Set<String>
    /// The most fields a record may have. Checked while the record is split, so a header of
    /// millions of delimiters is refused before it costs memory.
    public var maxColumns: Int

    /// The column limit when the caller sets none: far above any real export, far below what
    /// would exhaust memory.
    public static let defaultMaxColumns = 100_000

    public init(delimiter: UInt8? = nil, decimalMark: UInt8? = nil, textColumns: Set<String> = [],
                maxColumns: Int = CSVReadOptions.defaultMaxColumns) {
        self.delimiter = delimiter
        self.decimalMark = decimalMark
        self.textColumns = textColumns
        self.maxColumns = maxColumns
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
    /// Reads the records in blocks of about this many bytes, parsed on every thread
    /// ``Parallelism`` allows, whatever the source and its size (for tests and fuzzing). When
    /// `nil`, files of 1 MB and more are read that way (see ``blockBytes(of:dataBytes:)``).
    public var parallelBlockBytes: Int?

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
        var textColumns = options.textColumns
        while true {
            let parsed = try parse(source, textColumns: textColumns)
            // Some column turned out to be text after numbers were read into it: read it as text
            // throughout. A second read can find another: a column that is text from its first
            // cell on one thread, but whose later block began with numbers when a failed block
            // had sent the first read to one thread. A third finds none, whatever the file: reading
            // more columns as text makes no block fail that did not, and a read in blocks that
            // succeeds finds every column it would lose at once.
            let lossy = parsed.lossyColumns.subtracting(textColumns)
            guard !lossy.isEmpty else { return parsed.table }
            textColumns.formUnion(lossy)
        }
    }

    /// What the first chunk tells: the dialect, the parsers and the header. The input stands at
    /// the first record after the header.
    struct Opening {
        let input: ChunkedInput
        let dialect: CSVDialect
        let numberParser: NumberParser
        let recordParser: CSVRecordParser
        let header: [String]
        var line: Int

        /// A builder per header column, those in `textColumns` read as text.
        func emptyColumns(textColumns: Set<String>) -> [ColumnBuilder] {
            header.map { ColumnBuilder(name: $0, readAsText: textColumns.contains($0)) }
        }
    }

    func open(_ source: ByteSource) throws -> Opening {
        let input = try ChunkedInput(stream: source.open(), chunkSize: chunkSize)
        guard input.sample.contains(where: { $0 != ASCII.newline && $0 != ASCII.carriageReturn && $0 != ASCII.space }) else {
            throw TestbedError(.malformedCSV, "the file is empty; expected a header row naming the columns, then one row per record")
        }
        let dialect = resolveDialect(input.sample)
        guard dialect.delimiter != dialect.decimalMark else {
            throw TestbedError(.invalidParameter, "the delimiter and the decimal mark are both \(ASCII.name(of: dialect.delimiter)); they must differ (for example ';' with ',')")
        }
        let numberParser = NumberParser(decimalMark: dialect.decimalMark)
        let recordParser = CSVRecordParser(delimiter: dialect.delimiter, numberParser: numberParser, maxFields: max(options.maxColumns, 1))
        var scratch: [UInt8] = []
        var line = 1
        var header: [String] = []
        try input.forEachRecord(recordParser, line: &line) { bytes, fields, _ in
            header = try headerNames(bytes, fields, scratch: &scratch)
            return false
        }
        return Opening(input: input, dialect: dialect, numberParser: numberParser, recordParser: recordParser, header: header, line: line)
    }

    private func parse(_ source: ByteSource, textColumns: Set<String>) throws -> (table: DataTable, lossyColumns: Set<String>) {
        var opening = try open(source)
        let dataBytes = opening.input.size - opening.input.consumed
        if let blockBytes = parallelBlockBytes ?? Self.blockBytes(of: source, dataBytes: dataBytes),
           let parsed = parseInBlocks(opening, blockBytes: blockBytes, textColumns: textColumns) {
            return parsed
        }
        var builders = opening.emptyColumns(textColumns: textColumns)
        var rowCount = 0
        var scratch: [UInt8] = []
        let input = opening.input, parser = opening.numberParser, delimiter = opening.dialect.delimiter
        try builders.withUnsafeMutableBufferPointer { columns in
            try input.forEachRecord(opening.recordParser, line: &opening.line) { bytes, fields, line in
                switch appendRecord(fields, of: bytes, to: columns, parser: parser, scratch: &scratch) {
                case .appended: break
                case .blank: return true
                case .fieldCount:
                    throw TestbedError(.malformedCSV, "line \(line): found \(fields.count) fields, expected \(columns.count) as in the header (delimiter \(ASCII.name(of: delimiter))); a value that contains the delimiter must be quoted")
                case .cell(let column, .invalidUTF8):
                    throw Self.invalidUTF8("line \(line), column '\(columns[column].name.clipped())'")
                case .cell(let column, .outOfRange):
                    throw TestbedError(.malformedCSV, "line \(line), column '\(columns[column].name.clipped())': the number is beyond the range this testbed computes with (about ±1.8e308)")
                }
                rowCount += 1
                if rowCount == 1024 { Self.reserve(columns, rows: rowCount, bytesRead: input.consumed, of: input.size) }
                return true
            }
        }
        guard rowCount > 0 else {
            throw TestbedError(.malformedCSV, "the file has a header (\(builders.count) columns) but no data rows; expected at least one row below the header")
        }
        let lossy = Set(builders.filter(\.lostNumberSpelling).map(\.name))
        return (DataTable(columns: builders.map { $0.build() }, dialect: opening.dialect), lossy)
    }

    /// Sizes the columns for the whole input from the bytes per row so far, with a little slack.
    static func reserve(_ columns: UnsafeMutableBufferPointer<ColumnBuilder>, rows: Int, bytesRead: Int, of total: Int) {
        let estimate = Int(Double(total) / Double(max(bytesRead, 1)) * Double(rows) * 1.02) + 16
        for index in columns.indices { columns[index].reserve(estimate) }
    }

    /// What became of one record.
    enum RecordOutcome {
        case appended
        /// An empty line, skipped.
        case blank
        /// More or fewer fields than the header.
        case fieldCount
        case cell(column: Int, ColumnBuilder.CellProblem)
    }

    /// Appends a record's cells to the columns, or says why not (the cells before a bad one
    /// stay appended: the caller stops reading).
    @inline(__always)
    func appendRecord(_ fields: [FieldRange], of bytes: UnsafeBufferPointer<UInt8>, to columns: UnsafeMutableBufferPointer<ColumnBuilder>,
                      parser: NumberParser, scratch: inout [UInt8]) -> RecordOutcome {
        if fields.count != columns.count {
            return fields.count == 1 && fields[0].start == fields[0].end && !fields[0].quoted ? .blank : .fieldCount
        }
        for column in 0..<fields.count {
            if let problem = append(fields[column], of: bytes, to: &columns[column], parser: parser, scratch: &scratch) {
                return .cell(column: column, problem)
            }
        }
        return .appended
    }

    /// Appends one cell (a number parsed while splitting the record goes straight in); returns
    /// why it could not, if it could not.
    @inline(__always)
    private func append(_ field: FieldRange, of bytes: UnsafeBufferPointer<UInt8>, to column: inout ColumnBuilder,
                        parser: NumberParser, scratch: inout [UInt8]) -> ColumnBuilder.CellProblem? {
        if !field.number.isNaN && column.appendParsedNumber(field.number) { return nil }
        return withCell(field, of: bytes, scratch: &scratch) { cell in
            if MissingValue.isMissing(cell) {
                column.appendMissing()
                return nil
            }
            return column.append(cell, parser: parser)
        }
    }

    /// Calls `body` with a cell's bytes: spaces trimmed from unquoted cells, doubled quotes
    /// collapsed (into `scratch`) in quoted ones, in place in the buffer otherwise.
    @inline(__always)
    private func withCell<Result>(_ field: FieldRange, of bytes: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8],
                                  _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if field.escaped {
            scratch.removeAll(keepingCapacity: true)
            var index = field.start
            while index < field.end {
                scratch.append(bytes[index])
                index += bytes[index] == ASCII.quote ? 2 : 1
            }
            return scratch.withUnsafeBufferPointer(body)
        }
        var start = field.start, end = field.end
        if !field.quoted {
            while start < end && (bytes[start] == ASCII.space || bytes[start] == ASCII.tab) { start += 1 }
            while end > start && (bytes[end - 1] == ASCII.space || bytes[end - 1] == ASCII.tab) { end -= 1 }
        }
        return body(UnsafeBufferPointer(start: bytes.baseAddress! + start, count: end - start))
    }

    private static func invalidUTF8(_ place: String) -> TestbedError {
        TestbedError(.malformedCSV, "\(place): the bytes are not valid UTF-8; save the file as UTF-8 (in Excel: \"CSV UTF-8\")")
    }

    private func resolveDialect(_ sample: ArraySlice<UInt8>) -> CSVDialect {
        var dialect = sample.withUnsafeBufferPointer { CSVDialect.sniff($0, delimiter: options.delimiter) }
        if let mark = options.decimalMark { dialect.decimalMark = mark }
        return dialect
    }

    private func headerNames(_ bytes: UnsafeBufferPointer<UInt8>, _ fields: [FieldRange], scratch: inout [UInt8]) throws -> [String] {
        var names: [String] = []
        var seen: [String: Int] = [:]
        for (index, field) in fields.enumerated() {
            guard let raw = withCell(field, of: bytes, scratch: &scratch, { String(validating: $0, as: UTF8.self) }) else {
                throw Self.invalidUTF8("line 1 (header), column \(index + 1)")
            }
            let name = raw.trimmingSpaces.isEmpty ? "column_\(index + 1)" : raw.trimmingSpaces
            if let previous = seen[name] {
                throw TestbedError(.malformedCSV, "line 1 (header): the column name '\(name.clipped())' appears twice (columns \(previous + 1) and \(index + 1)); column names must be unique")
            }
            seen[name] = index
            names.append(name)
        }
        return names
    }
}

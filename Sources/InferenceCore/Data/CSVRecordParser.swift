/// One field of a record: a byte range in the parse buffer.
struct FieldRange {
    var start: Int
    var end: Int
    /// The field was in quotes.
    var quoted: Bool
    /// The quoted field holds doubled quotes that must be collapsed.
    var escaped: Bool
    /// The field's value when it is a plain decimal number, parsed while it was scanned;
    /// NaN when it needs the full ``NumberParser`` (or is not a number).
    var number: Double = .nan
}

/// Why a record could not be split into fields.
enum RecordProblem: Error {
    case unterminatedQuote
    case textAfterClosingQuote
    /// More fields than the reader's column limit.
    case tooManyFields
}

/// Splits RFC 4180 records (quoted fields, doubled quotes, delimiters and line breaks inside
/// quotes, LF or CRLF line ends) out of a byte buffer, without copying.
struct CSVRecordParser {
    let delimiter: UInt8
    /// Its decimal mark is never the delimiter (the reader refuses that combination).
    let numberParser: NumberParser
    /// Splitting stops with ``RecordProblem/tooManyFields`` past this many fields.
    let maxFields: Int

    /// Parses the record that starts at `start`.
    ///
    /// - Returns: the index after the record's line end and the number of line breaks consumed,
    ///   or `nil` when the buffer ends inside the record and more bytes may follow.
    @inline(__always)
    func parse(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, atEndOfInput: Bool,
               into fields: inout [FieldRange]) throws(RecordProblem) -> (next: Int, lineBreaks: Int)? {
        fields.removeAll(keepingCapacity: true)
        let end = bytes.count
        var index = start
        var lineBreaks = 0
        while true {
            if index < end && bytes[index] == ASCII.quote {
                var cursor = index + 1
                var escaped = false
                while true {
                    guard cursor < end else {
                        if atEndOfInput { throw .unterminatedQuote }
                        return nil
                    }
                    let byte = bytes[cursor]
                    if byte == ASCII.quote {
                        if cursor + 1 < end {
                            if bytes[cursor + 1] == ASCII.quote { escaped = true; cursor += 2; continue }
                        } else if !atEndOfInput {
                            return nil  // a doubled quote may straddle the buffer's end
                        }
                        break
                    }
                    if byte == ASCII.newline { lineBreaks += 1 }
                    cursor += 1
                }
                guard fields.count < maxFields else { throw .tooManyFields }
                fields.append(FieldRange(start: index + 1, end: cursor, quoted: true, escaped: escaped))
                cursor += 1
                while cursor < end && (bytes[cursor] == ASCII.space || (bytes[cursor] == ASCII.tab && delimiter != ASCII.tab)) {
                    cursor += 1
                }
                index = cursor
                guard cursor < end else { return atEndOfInput ? (cursor, lineBreaks) : nil }
                let byte = bytes[cursor]
                if byte == delimiter { index = cursor + 1; continue }
                if byte != ASCII.newline && byte != ASCII.carriageReturn { throw .textAfterClosingQuote }
            } else {
                var cursor = index
                let number = scanPlainNumber(bytes, &cursor)
                while cursor < end {
                    let byte = bytes[cursor]
                    // Line ends are below 14, as are few other bytes: one comparison for most.
                    if byte == delimiter || (byte < 14 && (byte == ASCII.newline || byte == ASCII.carriageReturn)) { break }
                    cursor += 1
                }
                guard fields.count < maxFields else { throw .tooManyFields }
                fields.append(FieldRange(start: index, end: cursor, quoted: false, escaped: false,
                                         number: cursor == end && !atEndOfInput ? .nan : number))
                index = cursor
                guard cursor < end else { return atEndOfInput ? (cursor, lineBreaks) : nil }
                if bytes[cursor] == delimiter { index = cursor + 1; continue }
            }
            // At a line end: LF, CRLF or a lone CR.
            if bytes[index] == ASCII.newline { return (index + 1, lineBreaks + 1) }
            if index + 1 < end { return (bytes[index + 1] == ASCII.newline ? index + 2 : index + 1, lineBreaks + 1) }
            return atEndOfInput ? (index + 1, lineBreaks + 1) : nil
        }
    }

    /// Reads `-?digits[.digits]` from `cursor`, advancing it, and returns its value when the field
    /// ends right there and the value is exact by Clinger's fast path (as in ``NumberParser``):
    /// most numeric cells are then parsed in the same pass that finds their end. Anything else
    /// (an exponent, spaces, a plus sign, text) returns NaN and is left to the full parser.
    @inline(__always)
    private func scanPlainNumber(_ bytes: UnsafeBufferPointer<UInt8>, _ cursor: inout Int) -> Double {
        var negative = false
        if cursor < bytes.count && bytes[cursor] == ASCII.minus { negative = true; cursor += 1 }
        let decimal = numberParser.scanDecimal(bytes, &cursor)
        if cursor < bytes.count {
            let byte = bytes[cursor]
            guard byte == delimiter || byte == ASCII.newline || byte == ASCII.carriageReturn else { return .nan }
        }
        return decimal.exactValue(negative: negative) ?? .nan
    }
}

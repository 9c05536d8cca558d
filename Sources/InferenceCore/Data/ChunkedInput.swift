/// The parse buffer over a ``ByteStream``: complete records are handed out in place, and the
/// start of a record cut off by the end of a chunk is kept for the next read.
final class ChunkedInput {
    let stream: ByteStream
    private(set) var buffer: [UInt8]
    private(set) var filled = 0
    private var position = 0
    private var discarded = 0
    private(set) var endOfInput = false
    private var fields: [FieldRange] = []

    /// The stream's total size, when known.
    var size: Int { stream.size }
    /// Bytes handed out as records so far.
    var consumed: Int { discarded + position }

    init(stream: ByteStream, chunkSize: Int) throws {
        self.stream = stream
        buffer = [UInt8](repeating: 0, count: chunkSize)
        fields.reserveCapacity(64)
        // Fill the first chunk completely so that sniffing sees enough lines.
        while filled < buffer.count && !endOfInput { try refill() }
        if filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { position = 3 }
    }

    /// The unread part of the first chunk (for sniffing the dialect).
    var sample: ArraySlice<UInt8> { buffer[position..<filled] }

    /// Calls `body` with each complete record (the buffer and the record's fields) until the
    /// input ends or `body` returns `false`. `line` is the physical line the record starts on.
    func forEachRecord(_ parser: CSVRecordParser, line: inout Int,
                       _ body: (UnsafeBufferPointer<UInt8>, [FieldRange], Int) throws -> Bool) throws {
        while !(position == filled && endOfInput) {
            var stop = false
            let progressed: Bool = try buffer.withUnsafeBufferPointer { whole in
                let bytes = UnsafeBufferPointer(rebasing: whole[0..<filled])
                var progressed = false
                while position < filled {
                    guard let (next, lineBreaks) = try parseRecord(parser, bytes, line: line) else { break }
                    progressed = true
                    let keepGoing = try body(bytes, fields, line)
                    position = next
                    line += lineBreaks
                    if !keepGoing { stop = true; break }
                }
                return progressed
            }
            if stop { return }
            if !progressed || position == filled {
                if endOfInput { return }
                try refill()
            }
        }
    }

    private func parseRecord(_ parser: CSVRecordParser, _ bytes: UnsafeBufferPointer<UInt8>, line: Int) throws -> (next: Int, lineBreaks: Int)? {
        do {
            return try parser.parse(bytes, from: position, atEndOfInput: endOfInput, into: &fields)
        } catch RecordProblem.tooManyFields {
            throw TestbedError(.malformedCSV, "line \(line): more than \(parser.maxFields) fields; at most \(parser.maxFields) columns are accepted (--max-columns)")
        } catch RecordProblem.unterminatedQuote {
            throw TestbedError(.malformedCSV, "line \(line): a quoted field is not closed before the end of the file; expected a closing '\"'")
        } catch {
            throw TestbedError(.malformedCSV, "line \(line): unexpected text after a closing quote; a quote inside a quoted field must be doubled (\"\")")
        }
    }

    /// Moves the unread tail to the front and reads more after it; grows the buffer when a
    /// single record fills it.
    private func refill() throws {
        if position > 0 {
            let remaining = filled - position
            buffer.withUnsafeMutableBufferPointer { bytes in
                if remaining > 0 { bytes.baseAddress!.update(from: bytes.baseAddress! + position, count: remaining) }
            }
            discarded += position
            filled = remaining
            position = 0
        }
        if filled == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        let count = try buffer.withUnsafeMutableBufferPointer { bytes in
            try stream.read(into: UnsafeMutableBufferPointer(rebasing: bytes[filled...]))
        }
        filled += count
        if count == 0 { endOfInput = true }
    }
}

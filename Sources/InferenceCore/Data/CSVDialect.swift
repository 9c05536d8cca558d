/// How a CSV file separates fields and writes decimal numbers.
///
/// Real exports come in two main dialects: the RFC 4180 one (`,` and `12.5`) and the
/// Nordic/European Excel one (`;` and `12,5`). ``sniff(_:)`` tells them apart from a sample.
public struct CSVDialect: Sendable, Equatable, Codable {
    /// The field delimiter byte.
    public var delimiter: UInt8
    /// The decimal mark byte, `.` or `,`.
    public var decimalMark: UInt8

    public init(delimiter: UInt8 = UInt8(ascii: ","), decimalMark: UInt8 = UInt8(ascii: ".")) {
        self.delimiter = delimiter
        self.decimalMark = decimalMark
    }

    /// Delimiters considered when sniffing, in order of preference on a tie.
    static let candidateDelimiters: [UInt8] = [ASCII.comma, ASCII.semicolon, ASCII.tab, ASCII.pipe]

    /// Guesses the delimiter and decimal mark from the first lines of a file.
    ///
    /// The delimiter is the candidate that occurs in the header and the same number of times
    /// on most of the following lines (counting only outside quotes). The decimal mark is `,`
    /// only when the delimiter is not `,` and the sample's numbers are written with commas.
    public static func sniff(_ sample: UnsafeBufferPointer<UInt8>, delimiter fixedDelimiter: UInt8? = nil) -> CSVDialect {
        let lines = sampleLines(sample, limit: 30)
        let delimiter = fixedDelimiter ?? bestDelimiter(in: lines, sample: sample)
        guard delimiter != ASCII.comma else { return CSVDialect(delimiter: delimiter, decimalMark: ASCII.period) }
        var commaNumbers = 0, periodNumbers = 0
        for line in lines.dropFirst() {
            var fieldStart = line.lowerBound
            for index in line.lowerBound...line.upperBound where index == line.upperBound || sample[index] == delimiter {
                switch decimalStyle(sample, fieldStart..<index) {
                case ASCII.comma?: commaNumbers += 1
                case ASCII.period?: periodNumbers += 1
                default: break
                }
                fieldStart = index + 1
            }
        }
        let mark = commaNumbers > periodNumbers ? ASCII.comma : ASCII.period
        return CSVDialect(delimiter: delimiter, decimalMark: mark)
    }

    private static func bestDelimiter(in lines: [Range<Int>], sample: UnsafeBufferPointer<UInt8>) -> UInt8 {
        guard let header = lines.first else { return ASCII.comma }
        var best: (delimiter: UInt8, score: Double) = (ASCII.comma, 0)
        for candidate in candidateDelimiters {
            let headerCount = countOutsideQuotes(candidate, sample, header)
            guard headerCount > 0 else { continue }
            let rest = lines.dropFirst()
            let agreeing = rest.filter { countOutsideQuotes(candidate, sample, $0) == headerCount }.count
            let agreement = rest.isEmpty ? 1 : Double(agreeing) / Double(rest.count)
            // Agreement decides; the field count only breaks near-ties.
            let score = agreement * 1000 + Double(min(headerCount, 999))
            if score > best.score { best = (candidate, score) }
        }
        return best.delimiter
    }

    /// `,` or `.` when the field looks like a decimal number written with that mark.
    private static func decimalStyle(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> UInt8? {
        var field = range
        while let first = field.first, bytes[first] == ASCII.space || bytes[first] == ASCII.quote { field = field.dropFirst() }
        while let last = field.last, bytes[last] == ASCII.space || bytes[last] == ASCII.quote || bytes[last] == ASCII.carriageReturn { field = field.dropLast() }
        if let first = field.first, bytes[first] == ASCII.minus || bytes[first] == ASCII.plus { field = field.dropFirst() }
        var mark: UInt8?
        var digitsAfterMark = 0
        for index in field {
            let byte = bytes[index]
            if ASCII.isDigit(byte) {
                if mark != nil { digitsAfterMark += 1 }
            } else if (byte == ASCII.comma || byte == ASCII.period) && mark == nil {
                mark = byte
            } else {
                return nil
            }
        }
        return digitsAfterMark > 0 ? mark : nil
    }

    private static func countOutsideQuotes(_ byte: UInt8, _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        var count = 0
        var quoted = false
        for index in range {
            let current = bytes[index]
            if current == ASCII.quote { quoted.toggle() } else if current == byte && !quoted { count += 1 }
        }
        return count
    }

    /// The first `limit` logical lines (a newline inside quotes does not end a line).
    /// A final line without a newline is left out, since it may be cut off by the sample.
    private static func sampleLines(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var start = 0
        var quoted = false
        for index in 0..<bytes.count where lines.count < limit {
            let byte = bytes[index]
            if byte == ASCII.quote { quoted.toggle() }
            if byte == ASCII.newline && !quoted {
                var end = index
                if end > start && bytes[end - 1] == ASCII.carriageReturn { end -= 1 }
                if end > start { lines.append(start..<end) }
                start = index + 1
            }
        }
        if lines.isEmpty && start < bytes.count { lines.append(start..<bytes.count) }
        return lines
    }
}

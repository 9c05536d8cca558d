/// Accumulates one column's cells while a file is parsed.
///
/// A column stays numeric while every present cell is a number; the first cell that is not
/// turns it into text. If numbers had already been seen, their original spelling is lost, so
/// the reader parses the file a second time with that column read as text from the start.
struct ColumnBuilder {
    let name: String
    private(set) var numbers: [Double] = []
    private(set) var codes: [Int32] = []
    private(set) var levels: [String] = []
    private var levelIndex: [String: Int32] = [:]
    private(set) var isText: Bool
    /// Set when the column turned to text after numbers had been read into it.
    private(set) var lostNumberSpelling = false
    private var numbersSeen = 0

    init(name: String, readAsText: Bool) {
        self.name = name
        self.isText = readAsText
    }

    mutating func reserve(_ capacity: Int) {
        if isText { codes.reserveCapacity(capacity) } else { numbers.reserveCapacity(capacity) }
    }

    @inline(__always)
    mutating func appendMissing() {
        if isText { codes.append(-1) } else { numbers.append(.nan) }
    }

    /// Appends a number already parsed from the cell, when the column is still numeric.
    /// Returns `false` when the column has turned to text and needs the cell's bytes.
    @inline(__always)
    mutating func appendParsedNumber(_ value: Double) -> Bool {
        guard !isText else { return false }
        numbers.append(value)
        numbersSeen += 1
        return true
    }

    /// Appends a present cell. Returns `false` when the bytes are not valid UTF-8.
    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>, parser: NumberParser) -> Bool {
        if !isText {
            if let value = parser.parse(bytes) {
                numbers.append(value)
                numbersSeen += 1
                return true
            }
            switchToText()
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { return false }
        if let code = levelIndex[text] {
            codes.append(code)
        } else {
            let code = Int32(levels.count)
            levels.append(text)
            levelIndex[text] = code
            codes.append(code)
        }
        return true
    }

    private mutating func switchToText() {
        lostNumberSpelling = numbersSeen > 0
        isText = true
        codes.reserveCapacity(numbers.capacity)
        for value in numbers {
            if value.isNaN {
                codes.append(-1)
            } else {
                // A placeholder spelling; the second pass replaces it with the file's own.
                let text = formatNumber(value)
                if let code = levelIndex[text] { codes.append(code) } else {
                    levels.append(text)
                    levelIndex[text] = Int32(levels.count - 1)
                    codes.append(Int32(levels.count - 1))
                }
            }
        }
        numbers = []
    }

    consuming func build() -> Column {
        Column(name: name, values: isText ? .text(codes: codes, levels: levels) : .numeric(numbers))
    }
}

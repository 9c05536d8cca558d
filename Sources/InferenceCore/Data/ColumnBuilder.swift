/// Accumulates one column's cells while a file is parsed.
///
/// A column stays numeric while every present cell is a number; the first cell that is not
/// turns it into text. If numbers had already been seen, their original spelling is lost, so
/// the reader parses the file a second time with that column read as text from the start.
struct ColumnBuilder {
    let name: String
    private(set) var numbers: [Double] = []
    private(set) var codes: [Int32] = []
    private var levels = LevelIndex()
    private var spellings = SpellingCache()
    private(set) var isText: Bool
    /// Set when the column turned to text after numbers had been read into it.
    private(set) var lostNumberSpelling = false

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
        return true
    }

    /// Why a present cell could not be appended.
    enum CellProblem {
        /// The bytes are not valid UTF-8.
        case invalidUTF8
        /// A number beyond the range of a double (such as `1e400`): kept as infinity it would
        /// poison every sum and statistic of the column.
        case outOfRange
    }

    /// Appends a present cell; returns why it could not, if it could not.
    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>, parser: NumberParser) -> CellProblem? {
        if !isText {
            if let value = parser.parse(bytes) {
                guard value.isFinite else { return .outOfRange }
                numbers.append(value)
                return nil
            }
            switchToText()
        }
        let hash = spellings.hash(bytes)
        if let code = spellings.code(for: bytes, hash: hash) {
            codes.append(code)
            return nil
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { return .invalidUTF8 }
        let code = levels.code(for: text)
        spellings.insert(bytes, hash: hash, code: code)
        codes.append(code)
        return nil
    }

    /// Frees what only appending cells needs (the cache of spellings already seen), for a
    /// block's column kept until the table is put together: ``append(contentsOf:)`` reads its
    /// levels, not its spellings.
    mutating func finishCells() {
        spellings = SpellingCache()
    }

    /// Appends the cells of a block read after this one (the same column of a later part of the
    /// file), with the outcome of reading both as one: text levels keep their order of first
    /// appearance, and numbers that meet text lose their spelling, so the reader reads again.
    mutating func append(contentsOf later: ColumnBuilder) {
        if later.isText && !isText { switchToText() }
        lostNumberSpelling = lostNumberSpelling || later.lostNumberSpelling
        if !isText {
            numbers.append(contentsOf: later.numbers)
        } else if later.isText {
            let recoded = later.levels.levels.map { levels.code(for: $0) }
            codes.append(contentsOf: later.codes.lazy.map { $0 < 0 ? -1 : recoded[Int($0)] })
        } else {
            lostNumberSpelling = lostNumberSpelling || later.numbers.contains { !$0.isNaN }
            for value in later.numbers { codes.append(value.isNaN ? -1 : levels.code(for: formatNumber(value))) }
        }
    }

    private mutating func switchToText() {
        lostNumberSpelling = lostNumberSpelling || numbers.contains { !$0.isNaN }
        isText = true
        codes.reserveCapacity(numbers.capacity)
        // Placeholder spellings; the second pass replaces them with the file's own.
        for value in numbers { codes.append(value.isNaN ? -1 : levels.code(for: formatNumber(value))) }
        numbers = []
    }

    consuming func build() -> Column {
        Column(name: name, values: isText ? .text(codes: codes, levels: levels.levels) : .numeric(numbers))
    }
}

/// Distinct strings in order of first appearance, each with its code.
struct LevelIndex {
    private(set) var levels: [String] = []
    private var codes: [String: Int32] = [:]

    /// The code of `text`, adding it as a new level when it is new.
    mutating func code(for text: String) -> Int32 {
        if let code = codes[text] { return code }
        let code = Int32(levels.count)
        levels.append(text)
        codes[text] = code
        return code
    }
}

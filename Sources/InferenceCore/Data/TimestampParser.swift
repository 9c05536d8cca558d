/// Recognises timestamp columns as spreadsheet and ERP exports write them, and converts their
/// cells to seconds since 1970-01-01T00:00:00Z.
///
/// Parsing is hand-written over the UTF-8 bytes rather than done with `DateFormatter`: a
/// formatter depends on the locale and time zone of the machine, is slow to call once per cell,
/// and accepts more than it should (it rolls 2026-02-30 over to March). Calendar arithmetic is in
/// integers (Howard Hinnant's days-from-civil), so results are exact and the same everywhere.
///
/// Accepted cells, after leading and trailing spaces and tabs are removed:
///
/// | Layout | Date | Time of day (optional) |
/// |---|---|---|
/// | ISO 8601 | `yyyy-mm-dd` | `T` or spaces, `hh:mm[:ss[.f]]`, then `Z` or `±hh`, `±hhmm`, `±hh:mm` (optional) |
/// | year first, slashes | `yyyy/mm/dd` | spaces, `hh:mm[:ss[.f]]` |
/// | dots | `dd.mm.yyyy` (or `mm.dd.yyyy`) | spaces, `hh:mm[:ss[.f]]` |
/// | slashes, year last | `dd/mm/yyyy` or `mm/dd/yyyy` | spaces, `hh:mm[:ss[.f]]` |
///
/// - The year has exactly four digits (1...9999): two-digit years are refused, since `05.01.26`
///   cannot be told apart from other dotted numbers and the century would be a guess.
/// - Month, day and hour may have one or two digits (`5.1.2026 9:05`); minutes, seconds and
///   offset fields have exactly two.
/// - Fractional seconds have 1...9 digits after `.` or `,` (ISO 8601 allows both).
/// - A time without an offset is taken as UTC: an export does not say its zone, and reading it
///   in the server's zone would make the same file give different numbers on different
///   machines. Only ISO 8601 cells may carry an offset (`Z`, `+02:00`, `-0530`, `+02`, with or
///   without one space before it); it is subtracted, so the result is always UTC.
/// - Ranges are checked: month 1...12, day within the month (leap years by the Gregorian rule),
///   hour 0...23 (`24:00` is refused), minute 0...59, second 0...60. A leap second (`:60`) is
///   accepted and counted as 60 s, i.e. it lands on the next minute's first second.
/// - Anything else is refused, including text before or after the timestamp (`UTC`, `AM`/`PM`,
///   weekday names) and cells longer than 64 bytes after trimming.
public enum TimestampParser {}

/// How the cells of a timestamp column are written.
///
/// Raw values are stored in model files, so they are fixed, snake_case spellings.
public enum TimestampLayout: String, Sendable, Codable, CaseIterable {
    /// `yyyy-mm-dd[(T| )hh:mm[:ss[.fff]]][Z|±hh[:mm]]`
    case iso8601 = "iso8601"
    /// `yyyy/mm/dd[ hh:mm[:ss]]`
    case yearSlash = "year_slash"
    /// `dd.mm.yyyy[ hh:mm[:ss]]`, the Nordic and German spreadsheet default.
    case dayMonthYearDots = "day_month_year_dots"
    /// `mm.dd.yyyy[ hh:mm[:ss]]`: only chosen when the column proves it (a second part above 12).
    case monthDayYearDots = "month_day_year_dots"
    /// `dd/mm/yyyy[ hh:mm[:ss]]`
    case dayMonthYearSlash = "day_month_year_slash"
    /// `mm/dd/yyyy[ hh:mm[:ss]]`
    case monthDayYearSlash = "month_day_year_slash"

    /// Human description for a profile, e.g. "ISO 8601 (2026-01-05 13:45:00)", "day.month.year (05.01.2026)".
    public var description: String {
        switch self {
        case .iso8601: return "ISO 8601 (2026-01-05 or 2026-01-05 13:45:00)"
        case .yearSlash: return "year/month/day (2026/01/05)"
        case .dayMonthYearDots: return "day.month.year (05.01.2026)"
        case .monthDayYearDots: return "month.day.year (01.05.2026)"
        case .dayMonthYearSlash: return "day/month/year (05/01/2026)"
        case .monthDayYearSlash: return "month/day/year (01/05/2026)"
        }
    }

    /// Whether the first written part is the month (so the parser's second part is the day).
    var isMonthFirst: Bool { self == .monthDayYearDots || self == .monthDayYearSlash }
}

/// The format a whole column was found in. Stored in model files (Codable, snake_case keys), so keep it small.
public struct TimestampFormat: Sendable, Codable, Equatable {
    public var layout: TimestampLayout
    /// True when the day/month order was decided by a value above 12; false when assumed.
    /// Always true for ``TimestampLayout/iso8601`` and ``TimestampLayout/yearSlash``, whose order
    /// is fixed by the layout itself.
    public var orderProven: Bool
    /// Whether any cell has a time of day (false: dates only).
    public var hasTime: Bool

    enum CodingKeys: String, CodingKey {
        case layout
        case orderProven = "order_proven"
        case hasTime = "has_time"
    }

    public init(layout: TimestampLayout, orderProven: Bool, hasTime: Bool) {
        self.layout = layout
        self.orderProven = orderProven
        self.hasTime = hasTime
    }

    /// Parses one cell in this layout; nil when the cell is not a valid timestamp of this layout.
    ///
    /// Returns seconds since 1970-01-01T00:00:00Z; a time without an offset is read as UTC. A
    /// cell with a time of day is accepted even when `hasTime` is false (new data may be more
    /// precise than the data the format was found in), and a date alone is midnight.
    public func seconds(_ text: String) -> Double? {
        TimestampParser.withTrimmedBytes(text) { bytes -> Double? in
            guard let stamp = TimestampParser.scan(bytes) else { return nil }
            return stamp.seconds(in: layout)
        }
    }

    /// The time on the clock where it was written, as seconds since 1970 on a UTC calendar: the
    /// offset of a cell that has one is added back. Calendar features come from this, since a
    /// Sunday evening in Chicago (`2016-08-28T20:00:00-05:00`) is a Sunday there, though Monday
    /// in UTC. Without an offset it equals ``seconds(_:)``.
    public func wallClockSeconds(_ text: String) -> Double? {
        TimestampParser.withTrimmedBytes(text) { bytes -> Double? in
            guard let stamp = TimestampParser.scan(bytes), let utc = stamp.seconds(in: layout) else { return nil }
            return utc + Double(stamp.offsetSeconds)
        }
    }
}

/// A timestamp column read in its one layout: as ``TimestampDetection/timestamps(_:seconds:)``,
/// or a column in which at most ``TimestampColumn/oddShare`` of the present cells are not times
/// in the majority layout (a mistyped `2006-02-30` in a 15-year log), those read as missing.
public struct TimestampColumn: Sendable {
    public var format: TimestampFormat
    /// Seconds since 1970 (UTC) per row; NaN for a missing cell or one that is not a time in `format`.
    public var seconds: [Double]
    /// Present cells that are not a time in `format`, and the first of them (0-based row, as written).
    public var oddCells: Int
    public var firstOdd: (row: Int, text: String)?

    /// The most a timestamp column may hold of cells that are not times in its layout: one in a
    /// hundred is a typo; more is a column of another kind, or of mixed forms, to be fixed first.
    public static let oddShare = 0.01

    /// The note a profile or a training run gives about the odd cells, or `nil` without any.
    public var oddNote: String? {
        guard let firstOdd else { return nil }
        return "\(oddCells) cell\(oddCells == 1 ? " is" : "s are") not a time written as the rest (\(format.layout.description)), such as '\(firstOdd.text)' in row \(firstOdd.row + 1); read as missing"
    }
}

/// The result of examining a text column.
///
/// `Equatable` compares the `seconds` arrays element by element, and NaN (a missing cell) is not
/// equal to itself, so compare `.timestamps` results by pattern matching rather than with `==`.
public enum TimestampDetection: Sendable, Equatable {
    /// Every present cell parsed in one layout. `seconds` has one entry per row (NaN for a missing cell, code < 0).
    case timestamps(TimestampFormat, seconds: [Double])
    /// Most present cells (≥ 90 %, at least 2 of them) parse as timestamps but not all in one
    /// layout, or some fail: `row` is the 0-based row of the first cell that does not fit the
    /// column's majority layout, `text` that cell as written (untrimmed), clipped to its first
    /// 40 Unicode scalars so a message stays short.
    case mixed(majority: TimestampLayout, row: Int, text: String)
    /// Not a timestamp column (fewer than 90 % of the present cells parse, or no present cell).
    case notTimestamps
}

extension TimestampParser {
    /// The longest cell (after trimming) that is examined at all. The longest valid spelling,
    /// `2026-01-05T13:45:00.123456789 +05:30`, has 36 bytes; the margin leaves room for runs of
    /// spaces between date and time, and the cap bounds the work a hostile cell can cause.
    static let maxCellBytes = 64

    /// Examines a text column given as codes into levels (code -1 = missing cell; levels are the
    /// distinct texts).
    ///
    /// This runs on every text column of every uploaded CSV, up to millions of rows, so it is
    /// linear and allocates nothing per row: each level is parsed once from its UTF-8 bytes,
    /// then codes are mapped to the levels' values.
    ///
    /// How it decides:
    /// - Rows are counted per level first (one pass over `codes`), so each level used by some row
    ///   is parsed once, levels no row uses are ignored (a row subset keeps all levels), and a
    ///   failing level weighs as many rows as use it. Parsing stops with `.notTimestamps` as soon
    ///   as the failed rows exceed 10 % of the present ones; a cell that does not start with a
    ///   digit fails on its first byte, so text columns are dismissed in a few nanoseconds per
    ///   level. (This early exit is exact, unlike a look at the first few levels only.)
    /// - The day/month order of dotted and `xx/xx/yyyy` cells comes from the whole column: a
    ///   cell that is a valid date only day-first (`13.01.2026`) proves day-first, one valid only
    ///   month-first (`01.13.2026`) proves month-first; both in one column make it `.mixed`;
    ///   neither means day-first is assumed (`orderProven == false`), as the hub is Nordic.
    /// - The majority layout is the one that fits most present rows; ties go to the earlier
    ///   layout in `TimestampLayout.allCases`, and day-first wins a tie of the two orders.
    /// - Codes outside `levels` are treated as missing cells rather than trapping.
    public static func detect(codes: [Int32], levels: [String]) -> TimestampDetection {
        let levelCount = levels.count
        guard levelCount > 0, !codes.isEmpty else { return .notTimestamps }

        // Rows per level: one pass over the codes, no per-row allocation.
        var rowsPerLevel = [Int](repeating: 0, count: levelCount)
        var present = 0
        codes.withUnsafeBufferPointer { codeBuffer in
            rowsPerLevel.withUnsafeMutableBufferPointer { counts in
                for code in codeBuffer where code >= 0 && Int(code) < levelCount {
                    counts[Int(code)] &+= 1
                    present &+= 1
                }
            }
        }
        guard present > 0 else { return .notTimestamps }
        // At least 90 % must parse: parsed × 10 ≥ present × 9, i.e. at most this many may fail.
        let allowedFailures = present - (present / 10 * 9 + ((present % 10) * 9 + 9) / 10)

        var stamps = [LevelStamp](repeating: LevelStamp(), count: levelCount)
        var rowsByKind = [Int](repeating: 0, count: LevelKind.count)
        var failedRows = 0
        var anyTime = false
        for level in 0..<levelCount {
            let rows = rowsPerLevel[level]
            guard rows > 0 else { continue }
            let stamp = withTrimmedBytes(levels[level]) { bytes in LevelStamp(scan(bytes)) }
            stamps[level] = stamp
            rowsByKind[Int(stamp.kind.rawValue)] += rows
            if stamp.kind == .failed {
                failedRows += rows
                if failedRows > allowedFailures { return .notTimestamps }
            } else if stamp.hasTime {
                anyTime = true
            }
        }
        let parsedRows = present - failedRows
        guard parsedRows > 0 else { return .notTimestamps }

        // The best layout of each family; day-first wins a tie (and the all-ambiguous case).
        func count(_ kind: LevelKind) -> Int { rowsByKind[Int(kind.rawValue)] }
        let dotsMonthFirst = count(.dotsMonthFirst) > count(.dotsDayFirst)
        let slashMonthFirst = count(.slashMonthFirst) > count(.slashDayFirst)
        let candidates: [TimestampLayout] = [
            .iso8601, .yearSlash,
            dotsMonthFirst ? .monthDayYearDots : .dayMonthYearDots,
            slashMonthFirst ? .monthDayYearSlash : .dayMonthYearSlash,
        ]
        func fittingRows(_ layout: TimestampLayout) -> Int {
            LevelKind.allParsed.reduce(0) { $0 + ($1.fits(layout) ? count($1) : 0) }
        }
        var majority = candidates[0]
        var majorityRows = fittingRows(majority)
        for layout in candidates.dropFirst() {
            let rows = fittingRows(layout)
            if rows > majorityRows { majority = layout; majorityRows = rows }
        }

        if majorityRows == present {
            let orderProven: Bool
            switch majority {
            case .iso8601, .yearSlash: orderProven = true
            case .dayMonthYearDots: orderProven = count(.dotsDayFirst) > 0
            case .dayMonthYearSlash: orderProven = count(.slashDayFirst) > 0
            case .monthDayYearDots, .monthDayYearSlash: orderProven = true
            }
            let format = TimestampFormat(layout: majority, orderProven: orderProven, hasTime: anyTime)
            let monthFirst = majority.isMonthFirst
            let seconds = codes.map { code -> Double in
                guard code >= 0, Int(code) < levelCount else { return .nan }
                let stamp = stamps[Int(code)]
                return monthFirst ? stamp.monthFirst : stamp.dayFirst
            }
            return .timestamps(format, seconds: seconds)
        }

        // Not all in one layout: report the first row that does not fit the majority.
        guard parsedRows >= 2 else { return .notTimestamps }
        for (row, code) in codes.enumerated() where code >= 0 && Int(code) < levelCount {
            if !stamps[Int(code)].kind.fits(majority) {
                return .mixed(majority: majority, row: row, text: clipped(levels[Int(code)]))
            }
        }
        return .notTimestamps  // Unreachable: fewer fitting rows than present rows means one does not fit.
    }

    /// Reads a text column as timestamps: every present cell in one layout, or all but a few
    /// (at most ``TimestampColumn/oddShare``) that are then missing; `nil` otherwise.
    public static func column(codes: [Int32], levels: [String]) -> TimestampColumn? {
        switch detect(codes: codes, levels: levels) {
        case .notTimestamps:
            return nil
        case .timestamps(let format, let seconds):
            return TimestampColumn(format: format, seconds: seconds, oddCells: 0, firstOdd: nil)
        case .mixed(let majority, let row, let text):
            func parses(_ level: String, _ layout: TimestampLayout) -> Bool {
                TimestampFormat(layout: layout, orderProven: true, hasTime: true).seconds(level) != nil
            }
            let parsed = levels.map { parses($0, majority) }
            // Day-first is proven by a cell that is a date only that way round, as in detect.
            let orderProven: Bool
            switch majority {
            case .dayMonthYearDots: orderProven = levels.indices.contains { parsed[$0] && !parses(levels[$0], .monthDayYearDots) }
            case .dayMonthYearSlash: orderProven = levels.indices.contains { parsed[$0] && !parses(levels[$0], .monthDayYearSlash) }
            default: orderProven = true
            }
            let hasTime = levels.indices.contains { parsed[$0] && levels[$0].contains(":") }
            let format = TimestampFormat(layout: majority, orderProven: orderProven, hasTime: hasTime)
            let levelSeconds = levels.indices.map { parsed[$0] ? format.seconds(levels[$0]) ?? .nan : .nan }
            var (present, odd) = (0, 0)
            let seconds = codes.map { code -> Double in
                guard code >= 0, Int(code) < levels.count else { return .nan }
                present += 1
                let value = levelSeconds[Int(code)]
                if value.isNaN { odd += 1 }
                return value
            }
            guard Double(odd) <= TimestampColumn.oddShare * Double(present) else { return nil }
            return TimestampColumn(format: format, seconds: seconds, oddCells: odd, firstOdd: (row, text))
        }
    }

    /// The first 40 Unicode scalars of `text`. Clipped by scalars, not `Character`s, because one
    /// grapheme cluster can be arbitrarily long (a letter with a million combining marks).
    static func clipped(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.prefix(40))
        return String(scalars)
    }
}

// MARK: - Per-level classification

extension TimestampParser {
    /// What one level was found to be. Dotted and `xx/xx/yyyy` cells are split by which day/month
    /// orders give a valid date, so the column's order can be decided from counts alone.
    enum LevelKind: UInt8, CaseIterable {
        case failed
        case iso
        case yearSlash
        case dotsDayFirst, dotsMonthFirst, dotsEither
        case slashDayFirst, slashMonthFirst, slashEither

        static let count = allCases.count
        static let allParsed: [LevelKind] = allCases.filter { $0 != .failed }

        /// Whether a level of this kind is a valid cell of `layout`.
        func fits(_ layout: TimestampLayout) -> Bool {
            switch layout {
            case .iso8601: return self == .iso
            case .yearSlash: return self == .yearSlash
            case .dayMonthYearDots: return self == .dotsDayFirst || self == .dotsEither
            case .monthDayYearDots: return self == .dotsMonthFirst || self == .dotsEither
            case .dayMonthYearSlash: return self == .slashDayFirst || self == .slashEither
            case .monthDayYearSlash: return self == .slashMonthFirst || self == .slashEither
            }
        }
    }

    /// One level parsed: its kind and its value in each day/month order (NaN where that order gives
    /// no valid date). Unambiguous layouts use `dayFirst` only.
    struct LevelStamp {
        var dayFirst = Double.nan
        var monthFirst = Double.nan
        var kind = LevelKind.failed
        var hasTime = false

        init() {}

        init(_ scanned: ScannedTimestamp?) {
            guard let stamp = scanned else { return }
            hasTime = stamp.hasTime
            switch stamp.shape {
            case .iso, .yearSlash:
                guard let value = stamp.seconds(month: stamp.first, day: stamp.second) else { return }
                dayFirst = value
                kind = stamp.shape == .iso ? .iso : .yearSlash
            case .dots, .slash:
                let asDayFirst = stamp.seconds(month: stamp.second, day: stamp.first)
                let asMonthFirst = stamp.seconds(month: stamp.first, day: stamp.second)
                dayFirst = asDayFirst ?? .nan
                monthFirst = asMonthFirst ?? .nan
                let dots = stamp.shape == .dots
                switch (asDayFirst != nil, asMonthFirst != nil) {
                case (true, true): kind = dots ? .dotsEither : .slashEither
                case (true, false): kind = dots ? .dotsDayFirst : .slashDayFirst
                case (false, true): kind = dots ? .dotsMonthFirst : .slashMonthFirst
                case (false, false): kind = .failed
                }
            }
        }
    }
}

// MARK: - Scanning one cell

extension TimestampParser {
    /// The fields of one cell as written, before the day and month are told apart and checked.
    struct ScannedTimestamp {
        enum Shape: UInt8 { case iso, yearSlash, dots, slash }

        var shape: Shape
        /// ISO and year-first: the month. Dots and year-last slashes: the first part as written.
        var first: Int
        /// ISO and year-first: the day. Dots and year-last slashes: the second part as written.
        var second: Int
        /// 1...9999.
        var year: Int
        var hasTime: Bool
        /// Seconds into the day (0...86_399, or up to 86_400 with a leap second) minus the UTC
        /// offset; may be negative or beyond a day, which the day arithmetic absorbs.
        var clockSeconds: Int
        /// The UTC offset written in the cell (local = UTC + offset), in seconds; 0 without one.
        var offsetSeconds = 0
        /// The fractional second's digits as an integer below 10^fractionDigits.
        var fraction: Int
        /// 0...9.
        var fractionDigits: Int

        /// Seconds since the epoch for the given month and day, or nil when the date does not exist.
        func seconds(month: Int, day: Int) -> Double? {
            guard month >= 1, month <= 12, day >= 1, day <= TimestampParser.daysIn(month: month, year: year) else { return nil }
            // Years 1...9999 and the bounded clock keep every product far below 2^53: exact in Int and Double.
            let whole = TimestampParser.daysFromCivil(year: year, month: month, day: day) * 86_400 + clockSeconds
            guard fractionDigits > 0 else { return Double(whole) }
            let scale = TimestampParser.powerOfTen(fractionDigits)
            if fractionDigits <= 6 {
                // One rounding, as `strtod` or Python would: an exact integer over an exact power of ten.
                let scaled = whole * scale + fraction  // |whole| < 2^38, scale ≤ 10^6: no overflow.
                if scaled.magnitude <= 1 << 53 { return Double(scaled) / Double(scale) }
            }
            return Double(whole) + Double(fraction) / Double(scale)
        }

        /// The value of this cell read in `layout`, or nil when the cell is not of that layout.
        func seconds(in layout: TimestampLayout) -> Double? {
            switch (layout, shape) {
            case (.iso8601, .iso), (.yearSlash, .yearSlash): return seconds(month: first, day: second)
            case (.dayMonthYearDots, .dots), (.dayMonthYearSlash, .slash): return seconds(month: second, day: first)
            case (.monthDayYearDots, .dots), (.monthDayYearSlash, .slash): return seconds(month: first, day: second)
            default: return nil
            }
        }
    }
}

extension TimestampParser {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// Calls `body` with the bytes of `text` without leading and trailing spaces and tabs, or
    /// returns `body`'s answer for no bytes when the trimmed cell is longer than `maxCellBytes`.
    @inline(__always)
    static func withTrimmedBytes<Result>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> Result {
            var start = 0
            var end = bytes.count
            while start < end, bytes[start] == space || bytes[start] == tab { start += 1 }
            while end > start, bytes[end - 1] == space || bytes[end - 1] == tab { end -= 1 }
            guard end - start <= maxCellBytes else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
            return body(UnsafeBufferPointer(rebasing: bytes[start..<end]))
        }
        if let result = text.utf8.withContiguousStorageIfAvailable(trimmed) { return result }
        // Native Swift strings are always contiguous; a bridged one is copied once.
        var copy = text
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable(trimmed) ?? body(UnsafeBufferPointer(start: nil, count: 0))
    }

    /// Reads one trimmed cell. Every read goes through `byte(at:)`, which answers 0 (a byte no
    /// rule accepts) past the end, so no index can leave the buffer; every number has a bounded
    /// digit count, so no arithmetic can overflow.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> ScannedTimestamp? {
        let end = bytes.count
        guard end >= 8 else { return nil }  // The shortest valid cell, `5.1.2026`, has 8 bytes.
        @inline(__always) func byte(at index: Int) -> UInt8 { index < end ? bytes[index] : 0 }
        @inline(__always) func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
        /// A number of `minDigits...maxDigits` digits at `index` not followed by another digit.
        @inline(__always) func number(_ index: inout Int, _ minDigits: Int, _ maxDigits: Int) -> Int? {
            var value = 0
            var digits = 0
            while digits < maxDigits, isDigit(byte(at: index)) {
                value = value * 10 + Int(byte(at: index) &- UInt8(ascii: "0"))
                index += 1
                digits += 1
            }
            guard digits >= minDigits, !isDigit(byte(at: index)) else { return nil }
            return value
        }
        /// Exactly two digits at `index`, whatever follows (`+0530` packs hours and minutes).
        @inline(__always) func twoDigits(_ index: inout Int) -> Int? {
            let tens = byte(at: index), ones = byte(at: index + 1)
            guard isDigit(tens), isDigit(ones) else { return nil }
            index += 2
            return Int(tens &- UInt8(ascii: "0")) * 10 + Int(ones &- UInt8(ascii: "0"))
        }

        var index = 0
        guard isDigit(byte(at: 0)), let lead = number(&index, 1, 4) else { return nil }
        let leadDigits = index
        let separator = byte(at: index)
        index += 1

        let shape: ScannedTimestamp.Shape
        let year: Int, first: Int, second: Int
        switch (leadDigits, separator) {
        case (4, UInt8(ascii: "-")), (4, UInt8(ascii: "/")):
            shape = separator == UInt8(ascii: "-") ? .iso : .yearSlash
            year = lead
            guard let month = number(&index, 1, 2), byte(at: index) == separator else { return nil }
            index += 1
            guard let day = number(&index, 1, 2) else { return nil }
            first = month
            second = day
        case (1...2, UInt8(ascii: ".")), (1...2, UInt8(ascii: "/")):
            shape = separator == UInt8(ascii: ".") ? .dots : .slash
            first = lead
            guard let part = number(&index, 1, 2), byte(at: index) == separator else { return nil }
            index += 1
            guard let fourDigitYear = number(&index, 4, 4) else { return nil }
            second = part
            year = fourDigitYear
        default:
            return nil
        }
        guard year >= 1 else { return nil }

        var stamp = ScannedTimestamp(shape: shape, first: first, second: second, year: year,
                                     hasTime: false, clockSeconds: 0, fraction: 0, fractionDigits: 0)
        if index == end { return stamp }

        // Between date and time: `T` (ISO only) or a run of spaces.
        let afterDate = byte(at: index)
        if shape == .iso && (afterDate == UInt8(ascii: "T") || afterDate == UInt8(ascii: "t")) {
            index += 1
        } else if afterDate == space {
            while byte(at: index) == space { index += 1 }
        } else {
            return nil
        }

        guard let hour = number(&index, 1, 2), hour <= 23, byte(at: index) == UInt8(ascii: ":") else { return nil }
        index += 1
        guard let minute = number(&index, 2, 2), minute <= 59 else { return nil }
        var second60 = 0
        if byte(at: index) == UInt8(ascii: ":") {
            index += 1
            guard let secondValue = number(&index, 2, 2), secondValue <= 60 else { return nil }
            second60 = secondValue
            let mark = byte(at: index)
            if mark == UInt8(ascii: ".") || mark == UInt8(ascii: ",") {
                index += 1
                let fractionStart = index
                guard let fraction = number(&index, 1, 9) else { return nil }
                stamp.fraction = fraction
                stamp.fractionDigits = index - fractionStart
            }
        }
        stamp.hasTime = true
        stamp.clockSeconds = hour * 3_600 + minute * 60 + second60
        if index == end { return stamp }

        // An offset, ISO only: `Z`, `±hh`, `±hhmm`, `±hh:mm`, optionally after one space.
        guard shape == .iso else { return nil }
        if byte(at: index) == space { index += 1 }
        let sign = byte(at: index)
        index += 1
        if sign == UInt8(ascii: "Z") || sign == UInt8(ascii: "z") {
            return index == end ? stamp : nil
        }
        guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"),
              let offsetHours = twoDigits(&index), offsetHours <= 23 else { return nil }
        var offsetMinutes = 0
        if index < end {
            if byte(at: index) == UInt8(ascii: ":") { index += 1 }
            guard let minutes = number(&index, 2, 2), minutes <= 59, index == end else { return nil }
            offsetMinutes = minutes
        }
        let offset = offsetHours * 3_600 + offsetMinutes * 60
        // Local time = UTC + offset, so UTC = local − offset.
        stamp.offsetSeconds = sign == UInt8(ascii: "+") ? offset : -offset
        stamp.clockSeconds -= stamp.offsetSeconds
        return stamp
    }

    /// 10^exponent for 0...9.
    static func powerOfTen(_ exponent: Int) -> Int {
        var value = 1
        for _ in 0..<min(max(exponent, 0), 18) { value *= 10 }
        return value
    }
}

// MARK: - Calendar arithmetic

extension TimestampParser {
    /// Whether `year` is a leap year of the proleptic Gregorian calendar.
    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The number of days in `month` (1...12) of `year`; 0 for a month out of range.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 4, 6, 9, 11: return 30
        case 2: return isLeapYear(year) ? 29 : 28
        default: return 0
        }
    }

    /// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
    /// `days_from_civil`). Integer-only, exact for any date; callers keep years in 1...9999.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400                                            // 0...399
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1  // 0...365, from 1 March
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear  // 0...146096
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01 (Hinnant's `civil_from_days`).
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097                                                        // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // 0...399
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)               // 0...365
        let shiftedMonth = (5 * dayOfYear + 2) / 153                                             // 0...11, from March
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// Calendar fields of an instant, in UTC, for a model's time features.
public struct TimeParts: Sendable, Equatable {
    /// 0...23.
    public var hour: Int
    /// ISO weekday: 0 = Monday … 6 = Sunday.
    public var weekday: Int
    /// 1...12.
    public var month: Int
    /// 1...366 (366 only on 31 December of a leap year).
    public var dayOfYear: Int

    public init(hour: Int, weekday: Int, month: Int, dayOfYear: Int) {
        self.hour = hour
        self.weekday = weekday
        self.month = month
        self.dayOfYear = dayOfYear
    }

    /// Seconds since the epoch of 0001-01-01T00:00:00Z and of 10000-01-01T00:00:00Z.
    static let earliestSeconds = Double(TimestampParser.daysFromCivil(year: 1, month: 1, day: 1) * 86_400)
    static let endSeconds = Double(TimestampParser.daysFromCivil(year: 10_000, month: 1, day: 1) * 86_400)

    /// The UTC calendar fields of `seconds` since 1970-01-01T00:00:00Z (fractions of a second
    /// are dropped, rounding towards the past).
    ///
    /// nil for NaN/infinite or out of years 1...9999
    public init?(seconds: Double) {
        // Checked before converting, so the conversion to Int cannot trap. NaN fails both tests.
        guard seconds >= Self.earliestSeconds, seconds < Self.endSeconds else { return nil }
        // Truncate, then step down for negative fractions: a floor without libm.
        var whole = Int(seconds)
        if Double(whole) > seconds { whole -= 1 }
        let days = whole >= 0 ? whole / 86_400 : (whole - 86_399) / 86_400  // floor division
        let secondOfDay = whole - days * 86_400
        let date = TimestampParser.civilFromDays(days)
        hour = secondOfDay / 3_600
        // 1970-01-01 was a Thursday (3 when Monday is 0).
        weekday = ((days + 3) % 7 + 7) % 7
        month = date.month
        dayOfYear = days - TimestampParser.daysFromCivil(year: date.year, month: 1, day: 1) + 1
    }
}

import Foundation
import Testing
@testable import InferenceCore

/// Timestamp columns: the forms an export writes, the day/month decision over a whole column,
/// and the calendar fields the model's time features use.
///
/// Every expected epoch value below was computed independently of this code, with Python 3:
/// `datetime(y, m, d, h, mi, s, us, tzinfo=timezone(timedelta(...))).timestamp()` (UTC when the
/// cell has no offset), and the calendar fields with `dt.hour`, `dt.weekday()` (0 = Monday) and
/// `dt.timetuple().tm_yday`.
@Suite("Timestamp parser")
struct TimestampParserTests {
    /// (cell, layout it is read in, seconds since the epoch per Python's `datetime.timestamp()`).
    static let validCells: [(String, TimestampLayout, Double)] = [
        // ISO 8601 dates and date-times.
        ("2026-01-05", .iso8601, 1767571200.0),                          // datetime(2026,1,5,tzinfo=utc)
        ("2026-01-05 13:45:00", .iso8601, 1767620700.0),                 // datetime(2026,1,5,13,45,tzinfo=utc)
        ("2026-01-05T13:45:00", .iso8601, 1767620700.0),
        ("2026-01-05T13:45:00Z", .iso8601, 1767620700.0),
        ("2026-01-05t13:45:00z", .iso8601, 1767620700.0),
        ("2026-01-05 13:45", .iso8601, 1767620700.0),                    // Excel style, no seconds
        ("2026-1-5 9:05", .iso8601, 1767603900.0),                       // datetime(2026,1,5,9,5,tzinfo=utc)
        ("  2026-01-05 13:45:00\t", .iso8601, 1767620700.0),             // surrounding spaces and tabs are trimmed
        // Offsets: UTC = local time − offset.
        ("2026-01-05T13:45:00+02:00", .iso8601, 1767613500.0),           // tzinfo=timezone(timedelta(hours=2))
        ("2026-01-05T13:45:00-0530", .iso8601, 1767640500.0),            // tzinfo=timezone(-timedelta(hours=5, minutes=30))
        ("2026-01-05T13:45:00+02", .iso8601, 1767613500.0),
        ("2026-01-05 13:45:00 +02:00", .iso8601, 1767613500.0),
        ("2026-01-05 00:30+01:00", .iso8601, 1767569400.0),              // the UTC instant is on the previous day
        // Fractional seconds.
        ("2026-01-05 13:45:00.123456", .iso8601, 1767620700.123456),     // microsecond=123456
        ("2026-01-05T13:45:00.5Z", .iso8601, 1767620700.5),
        ("2026-01-05 13:45:00,25", .iso8601, 1767620700.25),             // ISO 8601 allows a decimal comma
        ("1969-12-31T23:59:59.5Z", .iso8601, -0.5),
        // A leap second counts as 60 s: it lands on the next minute.
        ("2026-12-31T23:59:60Z", .iso8601, 1798761600.0),                // datetime(2027,1,1,tzinfo=utc)
        // The ends of the year range and leap days.
        ("0001-01-01", .iso8601, -62135596800.0),
        ("9999-12-31 23:59:59", .iso8601, 253402300799.0),
        ("2024-02-29", .iso8601, 1709164800.0),
        ("2000-02-29", .iso8601, 951782400.0),                           // divisible by 400: a leap year
        // Day-first dots.
        ("05.01.2026 13:45", .dayMonthYearDots, 1767620700.0),
        ("5.1.2026", .dayMonthYearDots, 1767571200.0),
        ("05.01.2026 13:45:07", .dayMonthYearDots, 1767620707.0),
        ("29.02.2024", .dayMonthYearDots, 1709164800.0),
        ("01.13.2026", .monthDayYearDots, 1768262400.0),                 // datetime(2026,1,13,tzinfo=utc)
        // Year-first slashes.
        ("2026/01/05", .yearSlash, 1767571200.0),
        ("2026/01/05 13:45", .yearSlash, 1767620700.0),
        ("2026/01/05 13:45:00", .yearSlash, 1767620700.0),
        // Slashes with the year last, in both orders.
        ("05/01/2026", .dayMonthYearSlash, 1767571200.0),                // 5 January
        ("05/01/2026 13:45", .dayMonthYearSlash, 1767620700.0),
        ("05/01/2026", .monthDayYearSlash, 1777593600.0),                // 1 May: datetime(2026,5,1,tzinfo=utc)
        ("12/31/2026 23:59:59", .monthDayYearSlash, 1798761599.0),
    ]

    @Test("Each written form parses to its epoch seconds", arguments: validCells)
    func validCell(_ text: String, _ layout: TimestampLayout, _ expected: Double) {
        let format = TimestampFormat(layout: layout, orderProven: true, hasTime: true)
        #expect(format.seconds(text) == expected)
    }

    @Test("Unambiguous cells are found in their layout by detection too",
          arguments: validCells.filter { [.iso8601, .yearSlash].contains($0.1) })
    func singleCellColumn(_ text: String, _ layout: TimestampLayout, _ expected: Double) throws {
        guard case .timestamps(let format, let seconds) = TimestampParser.detect(codes: [0], levels: [text]) else {
            Issue.record("\(text) was not found to be a timestamp"); return
        }
        #expect(format.layout == layout && format.orderProven)
        #expect(seconds == [expected])
    }

    static let invalidCells = [
        "2026-13-01", "2026-00-10", "2026-01-00", "2026-02-30", "2026-02-29", "1900-02-29", "29.02.2026", "32.01.2026",
        "13/13/2026", "0.0.2026", "0000-01-01", "10000-01-01",
        "12.5", "7", "abc", "2026", "", "   ", "1.2.3",
        "2026-01-05 24:00:00", "2026-01-05 13:60", "2026-01-05 13:45:61", "2026-01-05 13", "2026-01-05 13:4", "2026-01-05 13:45:0",
        "2026-01-05T", "2026-01-05Z", "2026-01-05+02:00", "2026-01-05 13:45:00.", "2026-01-05 13:45:00.1234567890",
        "2026-01-05 13:45:00+2", "2026-01-05 13:45:00+24:00", "2026-01-05 13:45:00+02:60", "2026-01-05 13:45:00+02:0",
        "2026-01-05 13:45:00+0200x", "2026-01-05 13:45:00  +02:00", "2026-01-05 13:45:00 UTC",
        "26-01-05", "05.01.26", "2026-001-05", "2026/01-05", "05.01/2026", "2026/1/5/1", "+2026-01-05", "-2026-01-05",
        "05.01.2026T13:45", "05.01.2026 13:45Z", "05.01.2026 1:45 PM", "2026–01–05", "２０２６-01-05", "2026-01-05\u{0}",
    ]

    @Test("Malformed and impossible timestamps are refused in every layout", arguments: invalidCells)
    func invalidCell(_ text: String) {
        for layout in TimestampLayout.allCases {
            #expect(TimestampFormat(layout: layout, orderProven: true, hasTime: true).seconds(text) == nil, "\(layout)")
        }
        #expect(TimestampParser.detect(codes: [0], levels: [text]) == .notTimestamps)
    }

    @Test func leapDaysFollowTheGregorianRule() {
        let iso = TimestampFormat(layout: .iso8601, orderProven: true, hasTime: false)
        #expect(iso.seconds("2024-02-29") == 1709164800.0)
        #expect(iso.seconds("2026-02-29") == nil)
        #expect(iso.seconds("2000-02-29") == 951782400.0)
        #expect(iso.seconds("1900-02-29") == nil)
        let dots = TimestampFormat(layout: .dayMonthYearDots, orderProven: true, hasTime: false)
        #expect(dots.seconds("29.02.2024") == 1709164800.0)
        #expect(dots.seconds("29.02.2026") == nil)
    }

    // MARK: The day/month order of a column

    @Test func aFirstPartAbove12ProvesDayFirst() {
        let detection = TimestampParser.detect(codes: [0, 1, 2], levels: ["05.01.2026", "13.01.2026", "01.02.2026 13:45"])
        guard case .timestamps(let format, let seconds) = detection else { Issue.record("\(detection)"); return }
        #expect(format == TimestampFormat(layout: .dayMonthYearDots, orderProven: true, hasTime: true))
        // Python: 5 Jan, 13 Jan, 1 Feb 13:45 2026 UTC.
        #expect(seconds == [1767571200.0, 1768262400.0, 1769953500.0])
    }

    @Test func aSecondPartAbove12ProvesMonthFirst() {
        let detection = TimestampParser.detect(codes: [0, 1, 2], levels: ["01/05/2026", "01/13/2026", "12/31/2026"])
        guard case .timestamps(let format, let seconds) = detection else { Issue.record("\(detection)"); return }
        #expect(format == TimestampFormat(layout: .monthDayYearSlash, orderProven: true, hasTime: false))
        // Python: 5 Jan, 13 Jan, 31 Dec 2026 UTC.
        #expect(seconds == [1767571200.0, 1768262400.0, 1798675200.0])
    }

    @Test func partsAllUpTo12AssumeDayFirst() {
        let detection = TimestampParser.detect(codes: [0, 1], levels: ["05/01/2026", "01/02/2026"])
        guard case .timestamps(let format, let seconds) = detection else { Issue.record("\(detection)"); return }
        #expect(format == TimestampFormat(layout: .dayMonthYearSlash, orderProven: false, hasTime: false))
        #expect(seconds == [1767571200.0, 1769904000.0])  // 5 January, 1 February
    }

    @Test func bothOrdersInOneColumnAreMixed() {
        let detection = TimestampParser.detect(codes: [0, 1, 2, 3], levels: ["05.01.2026", "13.01.2026", "01.02.2026", "01.13.2026"])
        #expect(detection == .mixed(majority: .dayMonthYearDots, row: 3, text: "01.13.2026"))
    }

    @Test func levelsNoRowUsesDoNotDecideTheOrder() {
        // A row subset keeps every level; "01.13.2026" is no longer in any row.
        let detection = TimestampParser.detect(codes: [0, 0], levels: ["05.01.2026", "01.13.2026"])
        guard case .timestamps(let format, _) = detection else { Issue.record("\(detection)"); return }
        #expect(format.layout == .dayMonthYearDots && !format.orderProven)
    }

    // MARK: Mixed and non-timestamp columns

    @Test func aMixedColumnReportsTheFirstRowOffTheMajorityLayout() {
        var levels = (1...20).map { String(format: "2026-01-%02d 08:00", $0) }
        var codes = (0..<20).map { Int32($0) }
        levels.append("05.01.2026")
        codes.insert(20, at: 7)   // row 7, then shifted to row 8 by the missing cell below
        codes.insert(-1, at: 3)
        #expect(TimestampParser.detect(codes: codes, levels: levels) == .mixed(majority: .iso8601, row: 8, text: "05.01.2026"))

        levels[20] = String(repeating: "x", count: 100)
        #expect(TimestampParser.detect(codes: codes, levels: levels)
            == .mixed(majority: .iso8601, row: 8, text: String(repeating: "x", count: 40)))
    }

    @Test func ninetyPercentIsTheThreshold() {
        let levels = ["2026-01-05", "n/a"]
        let nineOfTen = [Int32](repeating: 0, count: 9) + [1]
        #expect(TimestampParser.detect(codes: nineOfTen, levels: levels) == .mixed(majority: .iso8601, row: 9, text: "n/a"))
        #expect(TimestampParser.detect(codes: nineOfTen + [1], levels: levels) == .notTimestamps)
        #expect(TimestampParser.detect(codes: [0, 1], levels: ["2026-01-05", "05.01.2026"])
            == .mixed(majority: .iso8601, row: 1, text: "05.01.2026"))
    }

    @Test("Columns that are not timestamps", arguments: [
        ["12.5", "7"], ["1", "2", "3"], ["2026", "2027"], ["abc", "def"], ["1.2.3", "4.5.6"], ["12:30", "13:45"],
    ])
    func notTimestamps(_ levels: [String]) {
        let codes = (0..<levels.count).map { Int32($0) } + [0, -1]
        #expect(TimestampParser.detect(codes: codes, levels: levels) == .notTimestamps)
    }

    @Test func columnsWithoutPresentCellsAreNotTimestamps() {
        #expect(TimestampParser.detect(codes: [], levels: []) == .notTimestamps)
        #expect(TimestampParser.detect(codes: [-1, -1], levels: ["2026-01-05"]) == .notTimestamps)
    }

    @Test func missingCellsBecomeNaN() {
        let detection = TimestampParser.detect(codes: [-1, 0, -1, 1, 0], levels: ["2026-01-05", "2026-01-06"])
        guard case .timestamps(let format, let seconds) = detection else { Issue.record("\(detection)"); return }
        #expect(format == TimestampFormat(layout: .iso8601, orderProven: true, hasTime: false))
        #expect(seconds.count == 5)
        #expect(seconds[0].isNaN && seconds[2].isNaN)
        #expect(seconds[1] == 1767571200.0 && seconds[3] == 1767657600.0 && seconds[4] == 1767571200.0)
    }

    @Test func codesOutsideTheLevelsCountAsMissing() {
        let detection = TimestampParser.detect(codes: [0, 7, Int32.max, Int32.min], levels: ["2026-01-05"])
        guard case .timestamps(_, let seconds) = detection else { Issue.record("\(detection)"); return }
        #expect(seconds[0] == 1767571200.0 && seconds.dropFirst().allSatisfy(\.isNaN))
    }

    @Test func hostileCellsAreRefusedWithoutTrapping() {
        let iso = TimestampFormat(layout: .iso8601, orderProven: true, hasTime: true)
        #expect(iso.seconds(String(repeating: "9", count: 100_000)) == nil)
        #expect(iso.seconds("2026-01-05" + String(repeating: " ", count: 100_000) + "13:45") == nil)
        #expect(iso.seconds("9999-12-31T23:59:59.999999999-23:59") != nil)
        // One grapheme of 100 001 scalars is still clipped to 40 scalars.
        let long = "a" + String(repeating: "\u{301}", count: 100_000)
        let detection = TimestampParser.detect(codes: [Int32](repeating: 0, count: 19) + [1], levels: ["2026-01-05", long])
        guard case .mixed(_, let row, let text) = detection else { Issue.record("\(detection)"); return }
        #expect(row == 19 && text.unicodeScalars.count == 40)
    }

    // MARK: Stored form

    @Test func formatsEncodeWithSnakeCaseKeys() throws {
        let format = TimestampFormat(layout: .dayMonthYearDots, orderProven: false, hasTime: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(format), as: UTF8.self)
        #expect(json == #"{"has_time":true,"layout":"day_month_year_dots","order_proven":false}"#)
        #expect(try JSONDecoder().decode(TimestampFormat.self, from: Data(json.utf8)) == format)
    }

    @Test func everyLayoutHasItsOwnDescription() {
        let descriptions = TimestampLayout.allCases.map(\.description)
        #expect(Set(descriptions).count == descriptions.count)
        #expect(TimestampLayout.iso8601.description == "ISO 8601 (2026-01-05 or 2026-01-05 13:45:00)")
        #expect(TimestampLayout.dayMonthYearDots.description == "day.month.year (05.01.2026)")
    }

    // MARK: Calendar fields

    /// (seconds, hour, weekday with 0 = Monday, month, day of year), from Python.
    @Test("Calendar fields of known instants", arguments: [
        (1767620700.0, 13, 0, 1, 5),        // 2026-01-05 13:45, a Monday
        (1735603200.0, 0, 1, 12, 366),      // 2024-12-31, a Tuesday, day 366 of a leap year
        (1709251199.0, 23, 3, 2, 60),       // 2024-02-29 23:59:59, a Thursday
        (0.0, 0, 3, 1, 1),                  // 1970-01-01, a Thursday
        (-0.5, 23, 2, 12, 365),             // 1969-12-31 23:59:59.5, a Wednesday
        (-62135596800.0, 0, 0, 1, 1),       // 0001-01-01, a Monday
        (253402300799.0, 23, 4, 12, 365),   // 9999-12-31 23:59:59, a Friday
    ])
    func timeParts(_ seconds: Double, _ hour: Int, _ weekday: Int, _ month: Int, _ dayOfYear: Int) {
        #expect(TimeParts(seconds: seconds) == TimeParts(hour: hour, weekday: weekday, month: month, dayOfYear: dayOfYear))
    }

    @Test("No calendar fields outside years 1...9999", arguments: [
        Double.nan, .infinity, -.infinity, 1e300, -1e300, -62135596800.5, 253402300800.0,
    ])
    func timePartsOutOfRange(_ seconds: Double) {
        #expect(TimeParts(seconds: seconds) == nil)
    }
}

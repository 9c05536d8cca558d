/// What a timestamp column says about the rows: their span, their usual spacing, the gaps in it,
/// and whether the file is in time order.
public struct TimeProfile: Sendable, Codable, Equatable {
    /// How the cells are written, in words.
    public var layout: String
    /// Day-first or month-first forms: whether a value above 12 settled the order (`false`: day
    /// first was assumed, as no value decides it).
    public var orderProven: Bool
    /// The earliest and the latest time, ISO 8601 in UTC.
    public var first: String
    public var last: String
    /// The median step between consecutive distinct times, in seconds (`nil` with one time).
    public var typicalStepSeconds: Double?
    /// Steps more than ``gapFactor`` times the typical step.
    public var gapCount: Int
    /// The largest step, in seconds.
    public var largestStepSeconds: Double?
    /// Whether the rows are in time order (never earlier than the row before).
    public var inOrder: Bool

    /// A step this many times the typical one is a gap (a stop, a lost export, a holiday).
    public static let gapFactor = 5.0

    enum CodingKeys: String, CodingKey {
        case layout, first, last
        case orderProven = "order_proven"
        case typicalStepSeconds = "typical_step_seconds"
        case gapCount = "gap_count"
        case largestStepSeconds = "largest_step_seconds"
        case inOrder = "in_order"
    }

    /// Profiles the times of a column (seconds since 1970, NaN where missing).
    init?(format: TimestampFormat, seconds: [Double]) {
        let present = seconds.filter { !$0.isNaN }
        guard let low = present.min(), let high = present.max(),
              let first = Self.iso8601(low), let last = Self.iso8601(high) else { return nil }
        layout = format.layout.description
        orderProven = format.orderProven
        self.first = first
        self.last = last
        inOrder = zip(present, present.dropFirst()).allSatisfy { $0 <= $1 }
        var distinct = present.sortedPresent()
        distinct = zip(distinct, distinct.indices).filter { $1 == 0 || distinct[$1 - 1] != $0 }.map(\.0)
        let steps = zip(distinct.dropFirst(), distinct).map { $0 - $1 }.sortedPresent()
        // To the microsecond: differences of large epoch values carry rounding noise below it.
        func microseconds(_ value: Double) -> Double { (value * 1e6).rounded() / 1e6 }
        typicalStepSeconds = steps.isEmpty ? nil : microseconds(NumericSummary.median(ofSorted: steps))
        largestStepSeconds = steps.last.map(microseconds)
        gapCount = typicalStepSeconds.map { typical in steps.count { $0 > Self.gapFactor * typical } } ?? 0
    }

    /// Notes for the profile: order, gaps, and an assumed day/month order.
    var notes: [String] {
        var notes: [String] = []
        if !orderProven {
            notes.append("no day above 12 settles whether the first number is the day or the month; read as \(layout)")
        }
        if !inOrder { notes.append("the rows are not in time order") }
        if gapCount > 0, let typical = typicalStepSeconds, let largest = largestStepSeconds {
            notes.append("\(gapCount) gap\(gapCount == 1 ? "" : "s") longer than \(formatNumber(Self.gapFactor)) times the typical step of \(Self.duration(typical)) (the longest \(Self.duration(largest)))")
        }
        return notes
    }

    /// A duration in the largest unit that keeps it readable.
    public static func duration(_ seconds: Double) -> String {
        let units: [(String, Double)] = [("day", 86_400), ("hour", 3_600), ("minute", 60)]
        for (name, size) in units where seconds >= size {
            let count = seconds / size
            let text = count.rounded() == count ? formatNumber(count) : String(format: "%.1f", count)
            return "\(text) \(name)\(text == "1" ? "" : "s")"
        }
        return "\(formatNumber((seconds * 1000).rounded() / 1000)) s"
    }

    /// `yyyy-mm-ddThh:mm:ssZ` (fractions dropped), or `nil` outside years 1–9999.
    public static func iso8601(_ seconds: Double) -> String? {
        guard seconds.isFinite, abs(seconds) < 3.0e11 else { return nil }
        let whole = Int(seconds.rounded(.down))
        let days = (whole - ((whole % 86_400) + 86_400) % 86_400) / 86_400
        let second = whole - days * 86_400
        let (year, month, day) = TimestampParser.civilFromDays(days)
        guard (1...9999).contains(year) else { return nil }
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let yearText = String(repeating: "0", count: 4 - String(year).count) + String(year)
        return "\(yearText)-\(two(month))-\(two(day))T\(two(second / 3600)):\(two(second % 3600 / 60)):\(two(second % 60))Z"
    }
}

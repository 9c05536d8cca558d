/// The calendar features of ``TimeEncoder`` in 64-bit integer arithmetic, as ``TimeParts`` and
/// Hinnant's `civil_from_days` compute them.
///
/// A timestamp column is sent as its wall-clock seconds since 1970 (a double: the time on the clock
/// where it was written, read as if it were UTC), since ONNX cannot parse text into times. ONNX's
/// integer `Div` truncates towards zero while ours floors, so every quantity is first shifted by
/// five 400-year eras (146,097 days each, a whole number of weeks), which makes it non-negative
/// for all years from 1 to 9999 without changing the hour, the day of week, the month or the day
/// of year. Times outside those years, and NaN, give missing features, as ours do.
extension ONNXGraph {
    private static let daySeconds: Int64 = 86_400
    private static let eraDays: Int64 = 146_097
    /// Five eras: 2000 years.
    private static let shiftEras: Int64 = 5

    mutating func timeFeatures(_ x: String, _ encoder: TimeEncoder) throws -> [String] {
        guard encoder.isConsistent else {
            throw TestbedError(.invalidModelFile, "timestamp column '\(encoder.column.clipped())' does not have one encoder per derived part")
        }
        let valid = add("And", [add("GreaterOrEqual", [x, scalar(TimeParts.earliestSeconds)]), add("Less", [x, scalar(TimeParts.endSeconds)])])
        // Invalid cells compute on 0 (any valid time) and are replaced by NaN at the end: casting NaN to an integer is undefined.
        let safe = add("Where", [valid, x, scalar(0)])
        let whole = add("Cast", [add("Floor", [safe])], [ONNXAttribute.to(.int64)])
        let shifted = add("Add", [whole, scalar(int64: Self.shiftEras * Self.eraDays * Self.daySeconds)])
        let days = div(shifted, Self.daySeconds)                      // days since 1970 + 5 eras, ≥ 0
        let secondOfDay = add("Sub", [shifted, mul(days, Self.daySeconds)])
        let civil = civilFromShiftedDays(days)

        var columns: [String] = []
        for (part, partEncoder) in zip(encoder.parts, encoder.encoders) {
            let value: String
            switch part {
            case .hour: value = div(secondOfDay, 3_600)
            // 1970-01-01 was a Thursday (3 when Monday is 0); the shift is a whole number of weeks.
            case .dayOfWeek: value = mod(add("Add", [days, scalar(int64: 3)]), 7)
            case .month: value = civil.month
            case .dayOfYear: value = add("Add", [add("Sub", [days, shiftedDaysFromCivil(januaryFirstOf: civil.shiftedYear)]), scalar(int64: 1)])
            }
            let number = add("Where", [valid, add("Cast", [value], [ONNXAttribute.to(.double)]), scalar(.nan)])
            columns += encodeNumber(number, partEncoder)
        }
        return columns
    }

    /// `civil_from_days` on days shifted by five eras: the month, and the year plus 2000.
    private mutating func civilFromShiftedDays(_ days: String) -> (month: String, shiftedYear: String) {
        let z = add("Add", [days, scalar(int64: 719_468)])
        let era = div(z, Self.eraDays)
        let dayOfEra = add("Sub", [z, mul(era, Self.eraDays)])                                        // 0...146096
        let yearOfEra = div(add("Sub", [add("Add", [add("Sub", [dayOfEra, div(dayOfEra, 1_460)]), div(dayOfEra, 36_524)]),
                                        div(dayOfEra, 146_096)]), 365)                                 // 0...399
        let dayOfYear = add("Sub", [dayOfEra, add("Sub", [add("Add", [mul(yearOfEra, 365), div(yearOfEra, 4)]), div(yearOfEra, 100)])])
        let shiftedMonth = div(add("Add", [mul(dayOfYear, 5), scalar(int64: 2)]), 153)                // 0...11, from March
        let fromMarch = add("Less", [shiftedMonth, scalar(int64: 10)])
        let month = add("Where", [fromMarch, add("Add", [shiftedMonth, scalar(int64: 3)]), add("Sub", [shiftedMonth, scalar(int64: 9)])])
        let januaryOrFebruary = add("Cast", [add("LessOrEqual", [month, scalar(int64: 2)])], [ONNXAttribute.to(.int64)])
        let year = add("Add", [add("Add", [yearOfEra, mul(era, 400)]), januaryOrFebruary])
        return (month, year)
    }

    /// `days_from_civil(year, 1, 1)` for a year plus 2000, giving days since 1970 plus five eras.
    private mutating func shiftedDaysFromCivil(januaryFirstOf shiftedYear: String) -> String {
        // January counts in the previous March-based year.
        let y = add("Sub", [shiftedYear, scalar(int64: 1)])
        let era = div(y, 400)
        let yearOfEra = add("Sub", [y, mul(era, 400)])
        // From 1 March to 1 January: (153 · 10 + 2) / 5 = 306 days.
        let dayOfEra = add("Add", [add("Sub", [add("Add", [mul(yearOfEra, 365), div(yearOfEra, 4)]), div(yearOfEra, 100)]), scalar(int64: 306)])
        return add("Sub", [add("Add", [mul(era, Self.eraDays), dayOfEra]), scalar(int64: 719_468)])
    }

    private mutating func div(_ x: String, _ divisor: Int64) -> String { add("Div", [x, scalar(int64: divisor)]) }
    private mutating func mul(_ x: String, _ factor: Int64) -> String { add("Mul", [x, scalar(int64: factor)]) }
    private mutating func mod(_ x: String, _ divisor: Int64) -> String { add("Mod", [x, scalar(int64: divisor)]) }
}

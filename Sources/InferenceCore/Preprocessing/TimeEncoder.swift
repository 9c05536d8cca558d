/// Derives calendar features from a timestamp column: hour of day (when the column has times),
/// day of week, month and day of year, each then imputed and scaled as a numeric column.
///
/// A timestamp as such is never a feature: a model cannot extrapolate an absolute time into the
/// future it will be used in, but it can learn that Mondays, mornings or Decembers differ.
public struct TimeEncoder: Sendable, Codable, Equatable {
    /// One derived feature.
    public enum Part: String, Sendable, Codable, CaseIterable {
        case hour
        case dayOfWeek = "day_of_week"
        case month
        case dayOfYear = "day_of_year"

        /// The part of a time (UTC) as a number: hour 0–23, day of week 0 (Monday)–6, month 1–12,
        /// day of year 1–366.
        func value(_ parts: TimeParts) -> Double {
            switch self {
            case .hour: return Double(parts.hour)
            case .dayOfWeek: return Double(parts.weekday)
            case .month: return Double(parts.month)
            case .dayOfYear: return Double(parts.dayOfYear)
            }
        }
    }

    public var column: String
    /// The layout the training column was written in; prediction cells are read the same way.
    public var format: TimestampFormat
    /// One encoder per derived part, in ``Part`` order; each is named `column (part)`.
    public var parts: [Part]
    public var encoders: [NumericEncoder]

    /// Fits on the training column's times (wall-clock seconds since 1970, NaN for a missing cell).
    init(column: String, format: TimestampFormat, seconds: [Double], options: PreprocessingOptions) {
        self.column = column
        self.format = format
        parts = Part.allCases.filter { $0 != .hour || format.hasTime }
        let calendar = seconds.map { TimeParts(seconds: $0) }
        encoders = parts.map { part in
            NumericEncoder(column: "\(column) (\(part.rawValue))", values: calendar.map { $0.map(part.value) ?? .nan }, boolean: nil,
                           standardize: options.standardize, impute: options.imputeMissing, addIndicator: options.missingIndicators)
        }
    }

    var outputNames: [String] { encoders.flatMap(\.outputNames) }

    /// A prediction cell's time on its own wall clock: in the training layout, or else in ISO
    /// 8601, which any client can write whatever the training file used.
    func seconds(_ text: String) -> Double? {
        format.wallClockSeconds(text) ?? Self.iso8601.wallClockSeconds(text)
    }

    private static let iso8601 = TimestampFormat(layout: .iso8601, orderProven: true, hasTime: true)

    /// Whether the decoded parts and encoders fit together.
    var isConsistent: Bool {
        parts.count == encoders.count && Set(parts).count == parts.count
    }

    /// Writes one row's derived features; `seconds` is NaN for a missing or unreadable cell.
    func encode(_ seconds: Double, into output: UnsafeMutablePointer<Double>) {
        let calendar = TimeParts(seconds: seconds)
        var offset = 0
        for (part, encoder) in zip(parts, encoders) {
            encoder.encode(calendar.map(part.value) ?? .nan, into: output + offset)
            offset += encoder.missingIndicator ? 2 : 1
        }
    }
}

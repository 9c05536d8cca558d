/// The values of one feature at which a what-if curve is computed, the rest of the row held fixed.
///
/// Every bound comes from a client, so the number of points is worked out and limited in
/// floating point before anything is converted to an integer or allocated.
public enum WhatIfGrid {
    /// The most points one curve may have.
    public static let maxPoints = 1000

    /// `from`, `from + step`, … up to `to` (included when it falls on a step).
    public static func values(from: Double, to: Double, step: Double, maxPoints: Int = maxPoints) throws -> [Double] {
        guard from.isFinite, to.isFinite, step.isFinite, step > 0, to >= from else {
            throw TestbedError(.invalidParameter, "range needs from <= to and step > 0 (finite numbers); got from \(from), to \(to), step \(step)")
        }
        // `to - from` overflows to infinity for bounds near ±1.8e308: then there are too many points.
        let steps = ((to - from) / step + 1e-9).rounded(.down)
        guard steps.isFinite, steps < Double(maxPoints) else {
            throw TestbedError(.invalidParameter, "the range from \(from) to \(to) in steps of \(step) gives more than \(maxPoints) points; use a larger step")
        }
        return (0...Int(steps)).map { from + Double($0) * step }
    }

    /// `points` evenly spaced values from `low` to `high`, both included (the default curve over
    /// the training range). Interpolated so that no intermediate overflows.
    public static func span(low: Double, high: Double, points: Int = 21) -> [Double] {
        let last = Double(max(points - 1, 1))
        return (0..<max(points, 1)).map { index in
            let t = Double(index) / last
            return index == points - 1 ? high : low * (1 - t) + high * t
        }
    }

    /// One value of a what-if curve: a number, or text (a category, a time).
    public enum Value: Sendable, Equatable {
        case number(Double)
        case text(String)
    }

    /// The curve when none is asked for: every training category, 21 points over the
    /// training range, or for a time the 21 days around `rowTime` (the row's own time, else the
    /// last in training) in ISO 8601, which shows the week and its band; `nil` when training
    /// left no range.
    public static func defaultValues(for feature: FeatureSpec, summary: FeatureSummary?, rowTime: Double? = nil) -> [Value]? {
        if let counts = summary?.categoryCounts {
            return counts.keys.sorted().map(Value.text)
        }
        if feature.kind == .timestamp, let center = rowTime ?? summary?.max {
            return (-10...10).compactMap { TimeProfile.iso8601(center + Double($0) * 86_400) }.map(Value.text)
        }
        guard let low = summary?.min, let high = summary?.max else { return nil }
        return span(low: low, high: high).map(Value.number)
    }
}

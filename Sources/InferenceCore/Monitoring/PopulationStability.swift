import Foundation

/// The population stability index (PSI): how far a window's distribution over bins has moved from
/// the training distribution.
public enum PopulationStability {
    /// The floor of every share, expected and observed: an empty bin would otherwise make the
    /// logarithm infinite. 1e-4 is the usual choice; it is below the share of one row in any
    /// window of fewer than 10,000 rows, so it changes only empty bins, and it bounds what one
    /// empty bin can add (a bin of share s that empties adds at most s · ln(s / 1e-4), 0.69 for
    /// s = 0.1: a major shift, as it should be, but not an infinite one).
    public static let epsilon = 1e-4

    /// PSI of observed bin counts against expected shares: Σ (o − e) · ln(o / e) over bins, with o the observed share.
    ///
    /// Shares are floored at ``epsilon`` (not renormalised). Returns 0 for zero rows (no
    /// evidence of a shift), and NaN when the two do not have the same number of bins (counts
    /// of another reference cannot be compared).
    public static func index(expected: [Double], observed: [Int]) -> Double {
        guard expected.count == observed.count else { return .nan }
        // Summed as doubles: counts read back from storage cannot overflow the total.
        let total = observed.reduce(0.0) { $0 + Double($1) }
        guard total > 0 else { return 0 }
        var psi = 0.0
        for (share, count) in zip(expected, observed) {
            let e = Swift.max(share, epsilon)
            let o = Swift.max(Double(count) / total, epsilon)
            psi += (o - e) * log(o / e)
        }
        return psi
    }

    /// The usual bands: < 0.1 stable, 0.1–0.25 moderate shift, >= 0.25 major shift.
    public enum Band: String, Sendable, Codable { case stable, moderate, major }

    /// The band of `psi` (NaN, which cannot be placed, as major).
    public static func band(_ psi: Double) -> Band {
        if psi < 0.1 { return .stable }
        if psi < 0.25 { return .moderate }
        return .major
    }
}

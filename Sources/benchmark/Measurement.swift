import Foundation

/// Wall-clock seconds of repeated runs: the median and the spread.
struct Timing {
    var seconds: [Double] = []
    var median: Double { Self.median(seconds) }
    var minimum: Double { seconds.min()! }
    var maximum: Double { seconds.max()! }

    /// Runs `body` once to warm up, then `repetitions` times timed.
    static func measure(repetitions: Int, _ body: () throws -> Void) rethrows -> Timing {
        try body()
        var timing = Timing()
        for _ in 0..<repetitions { try timing.record(body) }
        return timing
    }

    /// Runs `body` once and adds its wall-clock time.
    mutating func record(_ body: () throws -> Void) rethrows {
        seconds.append(try Self.seconds(body))
    }

    /// The wall-clock seconds of one run of `body`, on the same clock as ``record(_:)``: for
    /// peers of ``alternate(repetitions:warmUp:ours:peers:)`` timed in this process.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = now()
        try body()
        return now() - start
    }

    /// Our work and each peer's (which report their own seconds) in turn, round after round, so
    /// that a machine whose speed drifts affects all sides alike; one timing per side.
    static func alternate(repetitions: Int, warmUp: Bool, ours: () throws -> Void,
                          peers: [() throws -> Double]) throws -> (ours: Timing, peers: [Timing]) {
        if warmUp {
            try ours()
            for peer in peers { _ = try peer() }
        }
        var mine = Timing()
        var theirs = peers.map { _ in Timing() }
        for _ in 0..<repetitions {
            try mine.record(ours)
            for (index, peer) in peers.enumerated() { theirs[index].seconds.append(try peer()) }
        }
        return (mine, theirs)
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// One reported figure: a rate (work per second) or a duration derived from a timing, with its
/// spread, the peers' figures for the same work measured in turn with it, and the held-out
/// quality of both sides where models are compared.
struct Result {
    var suite: String
    var name: String
    var unit: String
    /// Work units per run; the rate is `work / seconds`. Unused for durations.
    var work: Double
    var timing: Timing
    /// A duration (lower is better) rather than a rate (higher is better).
    var isDuration = false
    /// What the figure varies over, for tables and plots: algorithm, rows, batch, concurrency.
    var parameters: [String: String] = [:]
    var peers: [PeerResult] = []
    /// Held-out quality, by side: "testbed" and each peer's name.
    var quality: [String: Double] = [:]
    var qualityMetric: String?
    var extra: [String: Double] = [:]

    /// The figure: seconds (times `durationScale`) for durations, work per second for rates.
    var value: Double { isDuration ? timing.median * durationScale : work / timing.median }
    var range: (low: Double, high: Double) {
        isDuration ? (timing.minimum * durationScale, timing.maximum * durationScale) : (work / timing.maximum, work / timing.minimum)
    }
    var durationScale: Double { unit == "ms" ? 1e3 : unit == "µs" ? 1e6 : 1 }

    /// A peer's figure for the same work, and the speed ratio ours ÷ peer: the median over the
    /// repetitions of (peer seconds / our seconds) of the same round, above 1 when the testbed is faster.
    mutating func addPeer(_ name: String, _ peer: Timing) {
        var other = self
        other.timing = peer
        let ratios = zip(peer.seconds, timing.seconds).map { $0 / $1 }
        peers.append(PeerResult(name: name, value: other.value, low: other.range.low, high: other.range.high,
                                seconds: peer.seconds.count <= 50 ? peer.seconds : nil, speedRatio: ratios.isEmpty ? .nan : Timing.median(ratios)))
    }

    var line: String {
        let extras = extra.keys.sorted().map { "\($0) \(formatFigure(extra[$0]!))" }
        let others = peers.map { "\($0.name) \(formatFigure($0.value)) (ours ÷ peer speed \(String(format: "%.2f", $0.speedRatio))×)" }
        let qualities = quality.keys.sorted().map { "\($0) \(qualityMetric ?? "") \(String(format: "%.4f", quality[$0]!))" }
        let notes = extras + others + qualities
        return "\(suite.padding(toLength: 7, withPad: " ", startingAt: 0)) \(name.padding(toLength: 46, withPad: " ", startingAt: 0)) "
            + "\(formatFigure(value)) \(unit) (\(formatFigure(range.low))–\(formatFigure(range.high)))"
            + (notes.isEmpty ? "" : "  [\(notes.joined(separator: "; "))]")
    }
}

struct PeerResult: Codable {
    var name: String
    var value: Double
    var low: Double
    var high: Double
    /// Every repetition's seconds, unless there are thousands (single-row latency).
    var seconds: [Double]?
    var speedRatio: Double

    enum CodingKeys: String, CodingKey { case name, value, low, high, seconds; case speedRatio = "speed_ratio" }
}

extension Result: Encodable {
    enum CodingKeys: String, CodingKey {
        case suite, name, unit, value, low, high, seconds, parameters, peers, quality, extra
        case qualityMetric = "quality_metric"
        case isDuration = "is_duration"
    }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(suite, forKey: .suite)
        try container.encode(name, forKey: .name)
        try container.encode(unit, forKey: .unit)
        try container.encode(value, forKey: .value)
        try container.encode(range.low, forKey: .low)
        try container.encode(range.high, forKey: .high)
        // Every repetition's seconds, unless there are thousands (single-row latency): the report keeps their percentiles.
        if timing.seconds.count <= 50 { try container.encode(timing.seconds, forKey: .seconds) }
        try container.encode(isDuration, forKey: .isDuration)
        try container.encode(parameters, forKey: .parameters)
        try container.encode(peers, forKey: .peers)
        try container.encode(quality, forKey: .quality)
        try container.encodeIfPresent(qualityMetric, forKey: .qualityMetric)
        try container.encode(extra, forKey: .extra)
    }
}

/// Three significant digits, no exponent for everyday sizes.
func formatFigure(_ value: Double) -> String {
    guard value.isFinite else { return "–" }
    if abs(value) >= 1000 { return String(format: "%.0f", value) }
    return String(format: "%.3g", value)
}

/// Memory readings from the kernel.
enum Memory {
    /// Resets the peak resident size, where the kernel allows it (Linux: /proc/self/clear_refs),
    /// after handing memory freed by earlier work back to the system, so that a measurement is
    /// not lowered by pages the allocator kept from the one before.
    static func resetPeak() -> Bool {
        #if os(Linux)
        _ = releaseFreedMemory(0)
        #endif
        return (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
    }

    /// Peak (`VmHWM`) and current (`VmRSS`) resident size in bytes of a process (this one by default).
    static func resident(of process: String = "self") -> (peak: Double, current: Double) {
        guard let status = try? String(contentsOfFile: "/proc/\(process)/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
            return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return (field("VmHWM:"), field("VmRSS:"))
    }
}

#if os(Linux)
/// glibc's `malloc_trim`, which Swift's Glibc module does not export (it lives in malloc.h).
@_silgen_name("malloc_trim")
private func releaseFreedMemory(_ pad: Int) -> Int32
#endif

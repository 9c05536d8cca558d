import Foundation

/// Timings of repeated runs: the median and the spread, in wall-clock time and in the CPU time
/// of the measuring thread (which leaves out time a shared virtual machine's CPU was taken away).
struct Timing: Codable {
    var seconds: [Double]
    var cpuSeconds: [Double]
    var median: Double { Self.median(seconds) }
    var minimum: Double { seconds.min()! }
    var maximum: Double { seconds.max()! }
    var cpuMedian: Double { Self.median(cpuSeconds) }

    /// Runs `body` once to warm up, then `repetitions` times timed.
    static func measure(repetitions: Int, _ body: () throws -> Void) rethrows -> Timing {
        try body()
        var timing = Timing(seconds: [], cpuSeconds: [])
        for _ in 0..<repetitions { try timing.record(body) }
        return timing
    }

    /// Runs `body` once and adds its wall-clock and CPU time.
    mutating func record(_ body: () throws -> Void) rethrows {
        let (start, cpuStart) = (Self.now(CLOCK_MONOTONIC), Self.now(CLOCK_THREAD_CPUTIME_ID))
        try body()
        seconds.append(Self.now(CLOCK_MONOTONIC) - start)
        cpuSeconds.append(Self.now(CLOCK_THREAD_CPUTIME_ID) - cpuStart)
    }

    /// Times several bodies in turn, `repetitions` rounds after a warm-up round, so that a machine
    /// whose speed drifts affects each alike; one timing per body.
    static func measureAlternating(repetitions: Int, _ bodies: [() -> Void]) -> [Timing] {
        bodies.forEach { $0() }
        var timings = bodies.map { _ in Timing(seconds: [], cpuSeconds: []) }
        for _ in 0..<repetitions {
            for (index, body) in bodies.enumerated() { timings[index].record(body) }
        }
        return timings
    }

    private static func now(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// One reported figure: a rate (work per second) derived from a timing, with its spread.
struct Result: Codable {
    var suite: String
    var name: String
    var unit: String
    /// Work units per run; the rate is `work / seconds`.
    var work: Double
    var timing: Timing
    var extra: [String: Double] = [:]

    var median: Double { work / timing.median }
    /// The rate at the slowest and fastest repetition.
    var range: (low: Double, high: Double) { (work / timing.maximum, work / timing.minimum) }

    var line: String {
        let extras = extra.keys.sorted().map { "\($0) \(format(extra[$0]!))" }.joined(separator: ", ")
        return "\(suite.padding(toLength: 8, withPad: " ", startingAt: 0)) \(name.padding(toLength: 44, withPad: " ", startingAt: 0)) "
            + "\(format(median)) \(unit) (range \(format(range.low))–\(format(range.high)); median \(String(format: "%.4f", timing.median)) s)"
            + (extras.isEmpty ? "" : "  [\(extras)]")
    }

    private func format(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : String(format: "%.3g", value)
    }
}

/// Memory readings from the kernel.
enum Memory {
    /// Resets the peak resident size, where the kernel allows it (Linux: /proc/self/clear_refs).
    static func resetPeak() -> Bool {
        (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
    }

    /// Peak (`VmHWM`) and current (`VmRSS`) resident size in bytes.
    static func resident() -> (peak: Double, current: Double) {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return (0, 0) }
        func field(_ name: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
            return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return (field("VmHWM:"), field("VmRSS:"))
    }
}

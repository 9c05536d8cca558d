import ArgumentParser
import Foundation

/// An amount of memory: a number of bytes, or a number with a unit (`4GiB`, `512 MiB`, `64M`, `2GB`).
///
/// `K`, `M`, `G`, `T` and `KiB` … `TiB` are powers of 1024 (as `ulimit` and container runtimes read
/// them); `KB` … `TB` are powers of 1000.
struct MemorySize: Sendable, Hashable, Comparable, LosslessStringConvertible, ExpressibleByArgument {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    static func mebibytes(_ count: Int) -> MemorySize { MemorySize(bytes: count << 20) }
    static func gibibytes(_ count: Int) -> MemorySize { MemorySize(bytes: count << 30) }

    private static let units: [String: Double] = [
        "": 1, "b": 1,
        "k": 0x1p10, "kib": 0x1p10, "kb": 1e3,
        "m": 0x1p20, "mib": 0x1p20, "mb": 1e6,
        "g": 0x1p30, "gib": 0x1p30, "gb": 1e9,
        "t": 0x1p40, "tib": 0x1p40, "tb": 1e12,
    ]

    init?(_ description: String) {
        let text = description.trimmingCharacters(in: .whitespaces).lowercased()
        let number = text.prefix { $0.isNumber || $0 == "." }
        let unit = text.dropFirst(number.count).trimmingCharacters(in: .whitespaces)
        guard let value = Double(number), let scale = Self.units[unit] else { return nil }
        let bytes = (value * scale).rounded()
        guard bytes.isFinite, bytes >= 0, bytes < 0x1p62 else { return nil }
        self.bytes = Int(bytes)
    }

    init?(argument: String) { self.init(argument) }

    /// The largest whole binary unit: `4 GiB`, `64 MiB`, or else bytes; reads back as the same size.
    var description: String {
        for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] where bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift) \(unit)"
        }
        return "\(bytes) bytes"
    }

    static func < (lhs: MemorySize, rhs: MemorySize) -> Bool { lhs.bytes < rhs.bytes }
}

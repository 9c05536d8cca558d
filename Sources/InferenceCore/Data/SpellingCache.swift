#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The codes of ASCII cells already read into a text column, found by their bytes: a repeated
/// category (a machine, a shift, a supplier) costs a hash of a few bytes and one comparison
/// instead of a `String` and a dictionary lookup.
///
/// Only ASCII spellings are kept: for them equal bytes and equal strings are the same thing,
/// while Swift compares other strings by canonical equivalence, under which different bytes
/// can spell the same string (and must get the same code, as ``LevelIndex`` gives them).
struct SpellingCache {
    /// At most this many spellings are kept; a column of identifiers stops filling it.
    static let capacity = 4096

    private struct Entry {
        var hash: UInt64
        var start: Int
        var count: Int
        var code: Int32
    }

    /// Indexes into `entries` plus one, by hash; 0 is an empty slot. Empty until the first
    /// spelling, then at least twice the entries (a file may have 100,000 text columns).
    private var slots: [Int32] = []
    private var entries: [Entry] = []
    private var bytes: [UInt8] = []
    /// Random per column, so that no file can be written whose spellings all collide.
    private let seed = UInt64.random(in: .min ... .max) | 1

    /// The code of `cell`'s spelling, when it was cached.
    @inline(__always)
    func code(for cell: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int32? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let index = Int(slots[slot])
            guard index > 0 else { return nil }
            let entry = entries[index - 1]
            if entry.hash == hash && entry.count == cell.count && bytes.withUnsafeBufferPointer({ stored in
                cell.count == 0 || memcmp(stored.baseAddress! + entry.start, cell.baseAddress!, cell.count) == 0
            }) {
                return entry.code
            }
            slot = (slot + 1) & mask
        }
    }

    /// Keeps `cell`'s code, if there is room and the cell is ASCII.
    mutating func insert(_ cell: UnsafeBufferPointer<UInt8>, hash: UInt64, code: Int32) {
        guard entries.count < Self.capacity, !cell.contains(where: { $0 >= 0x80 }) else { return }
        entries.append(Entry(hash: hash, start: bytes.count, count: cell.count, code: code))
        bytes.append(contentsOf: cell)
        if 2 * entries.count > slots.count {
            slots = [Int32](repeating: 0, count: max(16, 2 * slots.count))
            for index in entries.indices { place(index) }
        } else {
            place(entries.count - 1)
        }
    }

    private mutating func place(_ index: Int) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: entries[index].hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index + 1)
    }

    /// FNV-1a from this column's seed, with the high bits folded down for the slot index.
    @inline(__always)
    func hash(_ cell: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash = seed
        for byte in cell { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash ^ (hash >> 29)
    }
}

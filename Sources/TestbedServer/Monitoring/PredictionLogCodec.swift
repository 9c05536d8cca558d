import Foundation
import InferenceCore

/// Logged predictions as monitors keep them and the database stores them: a compact
/// little-endian form, 25 bytes for a regression row and 27 + 8 per class (and 2 per label in
/// the set) for a classification one, written on the request path without an allocation per row.
/// As `LoggedPrediction` values and JSON they took ten times the memory and the writer's time.
///
/// Layout: a format byte (1), then per row: the sequence number (Int64), the time (Float64,
/// seconds since 1970), the value (Float64), a flags byte (1: probabilities, 2: interval,
/// 4: prediction set, 8: inputs), then what the flags say, in that order: a count (UInt16) and
/// that many Float64; two Float64; a count (UInt16) and that many UInt16; a length (UInt32) and
/// the inputs as JSON.
enum PredictionLogCodec {
    static let format: UInt8 = 1

    static func encode(_ rows: [LoggedPrediction]) throws -> Data {
        var bytes: [UInt8] = [format]
        for row in rows {
            try append(seq: row.seq, at: row.at, value: row.value, probabilities: row.probabilities?[...], interval: row.interval,
                       set: row.set, inputs: row.inputs, to: &bytes)
        }
        return Data(bytes)
    }

    /// Appends every row of a scored batch, numbered from `firstSeq`, without the format byte:
    /// what a monitor keeps until the writer takes it, a few dozen bytes a row.
    static func append(_ predictions: Predictions, firstSeq: Int64, at now: Date, inputs: [[String: String]]?, to bytes: inout [UInt8]) throws {
        let classes = predictions.probabilities?.columns ?? 0
        bytes.reserveCapacity(bytes.count + predictions.values.count * (26 + 8 * classes + (predictions.intervals == nil ? 0 : 16)))
        for row in predictions.values.indices {
            let probabilities = predictions.probabilities.map { $0.storage[row * classes..<(row + 1) * classes] }
            try append(seq: firstSeq + Int64(row), at: now, value: predictions.values[row], probabilities: probabilities,
                       interval: predictions.intervals.map { [$0[row].lower, $0[row].upper] }, set: predictions.predictionSets?[row],
                       inputs: inputs?[row], to: &bytes)
        }
    }

    private static func append(seq: Int64, at: Date, value: Double, probabilities: ArraySlice<Double>?, interval: [Double]?, set: [Int]?,
                               inputs: [String: String]?, to bytes: inout [UInt8]) throws {
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func append(_ value: Double) { append(value.bitPattern) }
        append(seq)
        append(at.timeIntervalSince1970)
        append(value)
        var flags: UInt8 = 0
        if probabilities != nil { flags |= 1 }
        if interval?.count == 2 { flags |= 2 }
        if set != nil { flags |= 4 }
        if inputs != nil { flags |= 8 }
        bytes.append(flags)
        if let probabilities {
            append(UInt16(clamping: probabilities.count))
            for probability in probabilities.prefix(Int(UInt16.max)) { append(probability) }
        }
        if let interval, interval.count == 2 { append(interval[0]); append(interval[1]) }
        if let set {
            append(UInt16(clamping: set.count))
            for label in set.prefix(Int(UInt16.max)) { append(UInt16(clamping: label)) }
        }
        if let inputs {
            let json = try JSONEncoder().encode(inputs)
            append(UInt32(clamping: json.count))
            bytes.append(contentsOf: json)
        }
    }

    /// `nil` when the bytes are not a log this codec wrote.
    static func decode(_ data: Data) -> [LoggedPrediction]? {
        data.withUnsafeBytes { buffer -> [LoggedPrediction]? in
            var offset = 0
            func read<T: FixedWidthInteger>(_: T.Type) -> T? {
                guard buffer.count - offset >= MemoryLayout<T>.size else { return nil }
                defer { offset += MemoryLayout<T>.size }
                return T(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: T.self))
            }
            func readDouble() -> Double? { read(UInt64.self).map(Double.init(bitPattern:)) }
            guard read(UInt8.self) == format else { return nil }
            var rows: [LoggedPrediction] = []
            while offset < buffer.count {
                guard let seq = read(Int64.self), let at = readDouble(), let value = readDouble(), let flags = read(UInt8.self) else { return nil }
                var row = LoggedPrediction(seq: seq, at: Date(timeIntervalSince1970: at), value: value)
                if flags & 1 != 0 {
                    guard let count = read(UInt16.self) else { return nil }
                    var probabilities: [Double] = []
                    for _ in 0..<count { guard let probability = readDouble() else { return nil }; probabilities.append(probability) }
                    row.probabilities = probabilities
                }
                if flags & 2 != 0 {
                    guard let lower = readDouble(), let upper = readDouble() else { return nil }
                    row.interval = [lower, upper]
                }
                if flags & 4 != 0 {
                    guard let count = read(UInt16.self) else { return nil }
                    var set: [Int] = []
                    for _ in 0..<count { guard let label = read(UInt16.self) else { return nil }; set.append(Int(label)) }
                    row.set = set
                }
                if flags & 8 != 0 {
                    guard let length = read(UInt32.self).map(Int.init), buffer.count - offset >= length,
                          let inputs = try? JSONDecoder().decode([String: String].self, from: Data(buffer[offset..<offset + length])) else { return nil }
                    offset += length
                    row.inputs = inputs
                }
                rows.append(row)
            }
            return rows
        }
    }
}

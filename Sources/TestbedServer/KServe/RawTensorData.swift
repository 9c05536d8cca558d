import Foundation

/// Tensor data as raw bytes, the form of the protocol's binary extension over HTTP and of
/// `raw_input_contents`/`raw_output_contents` over gRPC: little-endian, row-major, without padding;
/// BOOL one byte (0 or 1); BYTES each element a 4-byte little-endian length and then its bytes.
enum RawTensorData {
    typealias P = InferenceProtocol

    /// Bytes per element of the fixed-size datatypes; `nil` for BYTES (and unknown names).
    static func elementSize(_ datatype: String) -> Int? {
        switch datatype {
        case "BOOL", "UINT8", "INT8": 1
        case "UINT16", "INT16", "FP16": 2
        case "UINT32", "INT32", "FP32": 4
        case "UINT64", "INT64", "FP64": 8
        default: nil
        }
    }

    /// Reads `count` elements of `datatype` from exactly `bytes`; the tensor is called `name` in errors.
    /// Numbers come back as doubles (BOOL as 0 and 1), BYTES as text.
    static func decode(_ bytes: UnsafeRawBufferPointer, datatype: String, count: Int, name: String) throws -> P.TensorValues {
        let tensor = "input '\(name.clipped())'"
        guard datatype != "BYTES" else { return .texts(try strings(bytes, count: count, tensor: tensor)) }
        guard let size = elementSize(datatype) else { throw P.unsupported(datatype: datatype, input: name) }
        // `count` is a product of client sizes, checked for overflow by the caller; this one too.
        let (expected, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, expected == bytes.count else {
            throw APIError.badRequest("\(tensor): \(bytes.count) bytes of binary data, but \(count) elements of \(datatype) take \(overflow ? "more than any request carries" : "\(expected) bytes")")
        }
        if datatype == "FP64", Int(littleEndian: 1) == 1 {
            // The wire's byte order is the machine's: one copy, no per-element work.
            return .numbers([Double](unsafeUninitializedCapacity: count) { buffer, initialized in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes)
                initialized = count
            })
        }
        // The datatype is matched once; each loop then converts one fixed-width type.
        func convert<T: FixedWidthInteger>(_ type: T.Type, _ value: (T) -> Double) -> P.TensorValues {
            .numbers((0..<count).map { value(T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * size, as: T.self))) })
        }
        switch datatype {
        case "BOOL":
            if let index = bytes.firstIndex(where: { $0 > 1 }) {
                throw APIError.badRequest("\(tensor), element \(index): byte \(bytes[index]) is not a BOOL, which is 0 or 1")
            }
            return convert(UInt8.self) { Double($0) }
        case "UINT8": return convert(UInt8.self) { Double($0) }
        case "INT8": return convert(Int8.self) { Double($0) }
        case "UINT16": return convert(UInt16.self) { Double($0) }
        case "INT16": return convert(Int16.self) { Double($0) }
        case "UINT32": return convert(UInt32.self) { Double($0) }
        case "INT32": return convert(Int32.self) { Double($0) }
        case "UINT64": return convert(UInt64.self) { Double($0) }
        case "INT64": return convert(Int64.self) { Double($0) }
        case "FP16": return convert(UInt16.self) { Double(halfPrecision: $0) }
        case "FP32": return convert(UInt32.self) { Double(Float(bitPattern: $0)) }
        default: return convert(UInt64.self) { Double(bitPattern: $0) }
        }
    }

    /// BYTES elements: each a 4-byte length and that many bytes of UTF-8 text.
    private static func strings(_ bytes: UnsafeRawBufferPointer, count: Int, tensor: String) throws -> [String] {
        var texts: [String] = []
        // Each element takes at least its 4-byte length: a larger count cannot fit.
        guard count <= bytes.count / 4 else {
            throw APIError.badRequest("\(tensor): \(bytes.count) bytes of binary data cannot hold \(count) BYTES elements, each at least a 4-byte length")
        }
        texts.reserveCapacity(count)
        var offset = 0
        for index in 0..<count {
            guard bytes.count - offset >= 4 else {
                throw APIError.badRequest("\(tensor), element \(index): the binary data ends inside its 4-byte length (at byte \(offset) of \(bytes.count))")
            }
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            offset += 4
            guard length <= bytes.count - offset else {
                throw APIError.badRequest("\(tensor), element \(index): its length prefix says \(length) bytes, but only \(bytes.count - offset) remain")
            }
            guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), as: UTF8.self) else {
                throw APIError.badRequest("\(tensor), element \(index): its bytes are not UTF-8 text")
            }
            texts.append(text)
            offset += length
        }
        guard offset == bytes.count else {
            throw APIError.badRequest("\(tensor): \(bytes.count - offset) bytes of binary data are left after its \(count) BYTES elements")
        }
        return texts
    }

    /// The output's elements as raw bytes.
    static func encode(_ data: P.OutputData) -> [UInt8] {
        var bytes: [UInt8] = []
        switch data {
        case .numbers(let values):
            bytes.reserveCapacity(values.count * 8)
            for value in values { append(value.bitPattern, to: &bytes) }
        case .integers(let values):
            bytes.reserveCapacity(values.count * 8)
            for value in values { append(UInt64(bitPattern: value), to: &bytes) }
        case .booleans(let values):
            bytes = values.map { $0 ? 1 : 0 }
        case .strings(let values):
            for value in values {
                append(UInt32(value.utf8.count), to: &bytes)
                bytes.append(contentsOf: value.utf8)
            }
        }
        return bytes
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

extension Double {
    /// The value of an IEEE 754 half-precision number given by its bits (Float16 is not on every platform).
    init(halfPrecision bits: UInt16) {
        let sign: Double = bits & 0x8000 == 0 ? 1 : -1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: self = sign * fraction * 0x1p-24
        case 0x1F: self = fraction == 0 ? sign * .infinity : .nan
        default: self = sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}

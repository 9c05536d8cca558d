#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses decimal numbers straight from bytes, without building a `String` per cell.
///
/// Results are correctly rounded (identical to `strtod` and Python's `float`): the common case
/// of at most 19 significant digits and a small exponent takes Clinger's exact fast path,
/// anything else is handed to `strtod`.
struct NumberParser: Sendable {
    let decimalMark: UInt8

    private static let exactPowersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// The number the bytes spell, or `nil` when they are not a plain decimal number.
    @inline(__always)
    func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        let count = bytes.count
        guard count > 0 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == ASCII.minus { negative = true; index = 1 } else if bytes[0] == ASCII.plus { index = 1 }

        var mantissa: UInt64 = 0
        var significantDigits = 0
        var exponent = 0
        var sawDigit = false
        var truncated = false

        while index < count, ASCII.isDigit(bytes[index]) {
            let digit = UInt64(bytes[index] &- ASCII.zero)
            sawDigit = true
            if significantDigits < 19 {
                mantissa = mantissa &* 10 &+ digit
                if mantissa != 0 { significantDigits += 1 }
            } else {
                exponent += 1
                truncated = truncated || digit != 0
            }
            index += 1
        }
        if index < count, bytes[index] == decimalMark {
            index += 1
            while index < count, ASCII.isDigit(bytes[index]) {
                let digit = UInt64(bytes[index] &- ASCII.zero)
                sawDigit = true
                if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ digit
                    if mantissa != 0 { significantDigits += 1 }
                    exponent -= 1
                } else {
                    truncated = truncated || digit != 0
                }
                index += 1
            }
        }
        guard sawDigit else { return nil }
        if index < count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            var exponentNegative = false
            if index < count, bytes[index] == ASCII.minus { exponentNegative = true; index += 1 } else if index < count, bytes[index] == ASCII.plus { index += 1 }
            var explicitExponent = 0
            var sawExponentDigit = false
            while index < count, ASCII.isDigit(bytes[index]) {
                explicitExponent = min(explicitExponent * 10 + Int(bytes[index] &- ASCII.zero), 100_000)
                sawExponentDigit = true
                index += 1
            }
            guard sawExponentDigit else { return nil }
            exponent += exponentNegative ? -explicitExponent : explicitExponent
        }
        guard index == count else { return nil }

        let value: Double
        if !truncated && mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            let powers = Self.exactPowersOfTen
            value = exponent >= 0 ? Double(mantissa) * powers[exponent] : Double(mantissa) / powers[-exponent]
        } else if mantissa == 0 {
            value = 0
        } else {
            return slowParse(bytes)
        }
        return negative ? -value : value
    }

    /// Parses text (a category level, a JSON string); spaces around it are ignored.
    func parse(_ text: String) -> Double? {
        var bytes = Array(text.trimmingSpaces.utf8)
        return bytes.withUnsafeMutableBufferPointer { parse(UnsafeBufferPointer($0)) }
    }

    /// Parses text written with either decimal mark (a period first).
    static func parseEitherMark(_ text: String) -> Double? {
        NumberParser(decimalMark: ASCII.period).parse(text) ?? NumberParser(decimalMark: ASCII.comma).parse(text)
    }

    /// `strtod` on a NUL-terminated copy with the decimal mark made a period.
    private func slowParse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { buffer in
            for (offset, byte) in bytes.enumerated() {
                buffer[offset] = CChar(bitPattern: byte == decimalMark ? ASCII.period : byte)
            }
            buffer[bytes.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            return end == buffer.baseAddress! + bytes.count ? value : nil
        }
    }
}

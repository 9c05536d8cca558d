#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses decimal numbers straight from bytes, without building a `String` per cell.
///
/// Results are correctly rounded (identical to `strtod` and Python's `float`): the common case
/// of at most 19 digits forming an integer below 2⁵³ and a small exponent takes Clinger's exact
/// fast path; anything else is handed to `strtod`.
struct NumberParser: Sendable {
    let decimalMark: UInt8

    /// 10^exponent for 0...22, all exactly representable. A switch over literals compiles to a
    /// constant table; a static array would cost a lazy-initialisation check and reference
    /// counting on every cell.
    @inline(__always)
    static func exactPowerOfTen(_ exponent: Int) -> Double {
        switch exponent {
        case 0: return 1e0
        case 1: return 1e1
        case 2: return 1e2
        case 3: return 1e3
        case 4: return 1e4
        case 5: return 1e5
        case 6: return 1e6
        case 7: return 1e7
        case 8: return 1e8
        case 9: return 1e9
        case 10: return 1e10
        case 11: return 1e11
        case 12: return 1e12
        case 13: return 1e13
        case 14: return 1e14
        case 15: return 1e15
        case 16: return 1e16
        case 17: return 1e17
        case 18: return 1e18
        case 19: return 1e19
        case 20: return 1e20
        case 21: return 1e21
        default: return 1e22
        }
    }

    /// The digits of `digits[.digits]` read from `index` (which is advanced past them).
    struct Decimal {
        /// All digits as one integer; wrapped when there are more than 19.
        var mantissa: UInt64 = 0
        var digits = 0
        /// Minus the number of fraction digits.
        var exponent = 0

        /// The value by Clinger's fast path (an exact integer mantissa times an exact power of
        /// ten, rounded once, so identical to `strtod`), or `nil` when that path does not apply.
        @inline(__always)
        func exactValue(negative: Bool) -> Double? {
            guard digits > 0 && digits <= 19 && mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 else { return nil }
            let value = exponent >= 0 ? Double(mantissa) * exactPowerOfTen(exponent) : Double(mantissa) / exactPowerOfTen(-exponent)
            // The sign is set without a branch: in sensor data it is as good as random, and a
            // mispredicted branch per cell cost a fifth of the reader's time.
            let signBit: UInt64 = negative ? 1 << 63 : 0
            return Double(bitPattern: value.bitPattern | signBit)
        }
    }

    @inline(__always)
    func scanDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Decimal {
        var decimal = Decimal()
        let count = bytes.count
        let integerStart = index
        while index < count, ASCII.isDigit(bytes[index]) {
            decimal.mantissa = decimal.mantissa &* 10 &+ UInt64(bytes[index] &- ASCII.zero)
            index += 1
        }
        decimal.digits = index - integerStart
        if index < count, bytes[index] == decimalMark {
            index += 1
            let fractionStart = index
            while index < count, ASCII.isDigit(bytes[index]) {
                decimal.mantissa = decimal.mantissa &* 10 &+ UInt64(bytes[index] &- ASCII.zero)
                index += 1
            }
            decimal.exponent = fractionStart - index
            decimal.digits += index - fractionStart
        }
        return decimal
    }

    /// The number the bytes spell, or `nil` when they are not a plain decimal number.
    @inline(__always)
    func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        let count = bytes.count
        guard count > 0 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == ASCII.minus { negative = true; index = 1 } else if bytes[0] == ASCII.plus { index = 1 }
        var decimal = scanDecimal(bytes, &index)
        guard decimal.digits > 0 else { return nil }
        if index < count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            var exponentNegative = false
            if index < count, bytes[index] == ASCII.minus { exponentNegative = true; index += 1 } else if index < count, bytes[index] == ASCII.plus { index += 1 }
            var explicitExponent = 0
            let exponentStart = index
            while index < count, ASCII.isDigit(bytes[index]) {
                explicitExponent = min(explicitExponent * 10 + Int(bytes[index] &- ASCII.zero), 100_000)
                index += 1
            }
            guard index > exponentStart else { return nil }
            decimal.exponent += exponentNegative ? -explicitExponent : explicitExponent
        }
        guard index == count else { return nil }
        if let value = decimal.exactValue(negative: negative) { return value }
        if decimal.mantissa == 0 && decimal.digits <= 19 { return negative ? -0.0 : 0 }
        return slowParse(bytes)
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

/// Byte constants used by the CSV parser.
enum ASCII {
    static let quote = UInt8(ascii: "\"")
    static let comma = UInt8(ascii: ",")
    static let semicolon = UInt8(ascii: ";")
    static let tab = UInt8(ascii: "\t")
    static let pipe = UInt8(ascii: "|")
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let period = UInt8(ascii: ".")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- zero < 10 }

    /// A readable name for a delimiter or decimal mark, for messages.
    static func name(of byte: UInt8) -> String {
        switch byte {
        case tab: return "tab"
        case comma: return "',' (comma)"
        case semicolon: return "';' (semicolon)"
        case period: return "'.' (period)"
        default: return "'\(Character(Unicode.Scalar(byte)))'"
        }
    }
}

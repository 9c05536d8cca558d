import Foundation

/// The subset of JSON Schema that `/openapi.json` uses, enough to check answers against it:
/// `type` (one or several), `properties`, `required`, `additionalProperties`, `items`, `enum`,
/// `minimum`/`maximum` (and exclusive), `minLength`/`maxLength`/`pattern`, `minItems`/`maxItems`,
/// `minProperties`, `oneOf`, `not`, `format: date-time`, and `$ref` into `components/schemas`.
///
/// `closed`: an object schema with `properties` and no `additionalProperties` admits no other
/// key, so that a field the server writes and the document does not name is found.
struct SchemaValidator {
    let components: [String: Any]
    var closed = true

    init(document: [String: Any], closed: Bool = true) {
        components = (document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        self.closed = closed
    }

    /// What is wrong with `value` against `schema`, each with where it is; empty when it fits.
    func problems(_ value: Any, _ schema: [String: Any], at path: String = "$") -> [String] {
        if let reference = schema["$ref"] as? String {
            let name = String(reference.dropFirst("#/components/schemas/".count))
            guard let target = components[name] as? [String: Any] else { return ["\(path): no component \(name)"] }
            return problems(value, target, at: path)
        }
        var found: [String] = []
        if let types = schema["type"] {
            let allowed = (types as? [String]) ?? [types as? String ?? ""]
            guard allowed.contains(where: { Self.isA(value, $0) }) else {
                return ["\(path): expected \(allowed.joined(separator: " or ")), found \(Self.kind(of: value)) \(String(describing: value).prefix(80))"]
            }
        }
        if let values = schema["enum"] as? [Any], !values.contains(where: { Self.equal($0, value) }) {
            found.append("\(path): \(value) is not one of \(values)")
        }
        if let number = Self.number(value) {
            if let minimum = Self.bound(schema["minimum"]), number < minimum { found.append("\(path): \(number) < minimum \(minimum)") }
            if let maximum = Self.bound(schema["maximum"]), number > maximum { found.append("\(path): \(number) > maximum \(maximum)") }
            if let minimum = Self.bound(schema["exclusiveMinimum"]), number <= minimum { found.append("\(path): \(number) <= \(minimum)") }
            if let maximum = Self.bound(schema["exclusiveMaximum"]), number >= maximum { found.append("\(path): \(number) >= \(maximum)") }
        }
        if let text = value as? String {
            if let minimum = Self.bound(schema["minLength"]).map(Int.init), text.count < minimum { found.append("\(path): shorter than \(minimum)") }
            if let maximum = Self.bound(schema["maxLength"]).map(Int.init), text.count > maximum { found.append("\(path): longer than \(maximum)") }
            if let pattern = schema["pattern"] as? String, text.range(of: pattern, options: .regularExpression) == nil {
                found.append("\(path): '\(text.prefix(80))' does not match \(pattern)")
            }
            if schema["format"] as? String == "date-time", ISO8601DateFormatter().date(from: text) == nil {
                found.append("\(path): '\(text.prefix(80))' is not an ISO 8601 date-time")
            }
        }
        if let array = value as? [Any] {
            if let minimum = Self.bound(schema["minItems"]).map(Int.init), array.count < minimum { found.append("\(path): fewer than \(minimum) items") }
            if let maximum = Self.bound(schema["maxItems"]).map(Int.init), array.count > maximum { found.append("\(path): more than \(maximum) items") }
            if let items = schema["items"] as? [String: Any] {
                for (index, item) in array.enumerated() { found += problems(item, items, at: "\(path)[\(index)]") }
            }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil { found.append("\(path): lacks '\(name)'") }
            if let minimum = Self.bound(schema["minProperties"]).map(Int.init), object.count < minimum { found.append("\(path): fewer than \(minimum) keys") }
            for (key, member) in object {
                if let property = properties[key] as? [String: Any] {
                    found += problems(member, property, at: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] as? [String: Any] {
                    found += problems(member, additional, at: "\(path).\(key)")
                } else if schema["additionalProperties"] as? Bool == false || (closed && schema["properties"] != nil && schema["additionalProperties"] == nil) {
                    found.append("\(path): '\(key)' is not in the schema")
                }
            }
        }
        if let choices = schema["oneOf"] as? [[String: Any]] {
            let fitting = choices.filter { problems(value, $0, at: path).isEmpty }.count
            if fitting != 1 { found.append("\(path): fits \(fitting) of the oneOf choices, not exactly one") }
        }
        if let excluded = schema["not"] as? [String: Any], problems(value, excluded, at: path).isEmpty {
            found.append("\(path): fits the schema it must not fit")
        }
        return found
    }

    /// A bound as a schema built in Swift (Int, Double) or read by JSONSerialization (NSNumber) holds it.
    private static func bound(_ value: Any?) -> Double? {
        switch value {
        case let value as Int: return Double(value)
        case let value as Double: return value
        case let value as NSNumber: return value.doubleValue
        default: return nil
        }
    }

    static func isA(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "null": return value is NSNull
        case "boolean": return isBool(value)
        case "number": return number(value) != nil
        case "integer": return number(value).map { $0.rounded() == $0 } ?? false
        case "string": return value is String
        case "array": return value is [Any]
        case "object": return value is [String: Any]
        default: return false
        }
    }

    private static func isBool(_ value: Any) -> Bool {
        // JSONSerialization reads true and false as NSNumbers of the C type char.
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    static func number(_ value: Any) -> Double? {
        guard let number = value as? NSNumber, !isBool(value) else { return nil }
        return number.doubleValue
    }

    private static func kind(of value: Any) -> String {
        for type in ["null", "boolean", "integer", "number", "string", "array", "object"] where isA(value, type) { return type }
        return "\(type(of: value))"
    }

    private static func equal(_ a: Any, _ b: Any) -> Bool {
        if let a = a as? String, let b = b as? String { return a == b }
        if let a = number(a), let b = number(b) { return a == b }
        return false
    }
}

import Foundation

/// A JSON Schema (the 2020-12 dialect OpenAPI 3.1 uses) as `JSONSerialization` writes it.
typealias JSONSchema = [String: Any]

/// A type whose JSON form the reflection below cannot see from its `Decodable` conformance
/// (it tries several forms, or encodes by hand): it states its schema and a placeholder value.
protocol JSONSchemaDescribed {
    static var jsonSchema: JSONSchema { get }
    static var schemaPlaceholder: Self { get }
}

/// Derives the JSON schema of a `Decodable` type by decoding a placeholder value from a decoder
/// that records what the type asks for: which keys (read with `decode`: required; with
/// `decodeIfPresent`: optional), which values (strings, numbers, whole numbers, booleans, dates,
/// the cases of a string enum), arrays and maps.
///
/// A type's synthesized `Decodable` reads exactly the keys its synthesized `Encodable` writes
/// (the same `CodingKeys`), and `encodeIfPresent` leaves out what `decodeIfPresent` finds absent,
/// so the schema describes what the server encodes. Dates are ISO 8601 strings, as
/// ``TestbedContext/responseEncoder`` writes them. Types with hand-written coding conform to
/// ``JSONSchemaDescribed``.
enum SchemaReflection {
    /// The schema of `type`.
    static func schema<T: Decodable>(of type: T.Type) -> JSONSchema {
        let node = Node()
        do {
            _ = try value(type, into: node)
        } catch {
            preconditionFailure("\(T.self) cannot be described by reflection (\(error)); conform it to JSONSchemaDescribed")
        }
        return node.schema
    }

    /// What is known of one value so far.
    final class Node {
        enum Kind { case unknown, leaf(JSONSchema), object, array }
        var kind = Kind.unknown
        var nullable = false
        /// Properties in the order read, and whether each is required.
        var properties: [(name: String, node: Node, required: Bool)] = []
        /// A dictionary with string keys: its values' node.
        var isMap = false
        var items: Node?

        func property(_ name: String) -> Node {
            if let found = properties.first(where: { $0.name == name }) { return found.node }
            let node = Node()
            properties.append((name, node, true))
            return node
        }

        func markOptional(_ name: String) {
            _ = property(name)
            if let index = properties.firstIndex(where: { $0.name == name }) { properties[index].required = false }
        }

        var schema: JSONSchema {
            var schema: JSONSchema
            switch kind {
            case .unknown: schema = [:]
            case .leaf(let leaf): schema = leaf
            case .array: schema = ["type": "array", "items": items?.schema ?? [:]]
            case .object where isMap:
                schema = ["type": "object", "additionalProperties": properties.first?.node.schema ?? [:]]
            case .object:
                schema = ["type": "object", "properties": Dictionary(uniqueKeysWithValues: properties.map { ($0.name, $0.node.schema) }),
                          "required": properties.filter(\.required).map(\.name).sorted()]
            }
            if nullable, let type = schema["type"] as? String { schema["type"] = [type, "null"] }
            return schema
        }
    }

    /// Decodes a placeholder `T`, recording its form in `node`.
    static func value<T: Decodable>(_ type: T.Type, into node: Node) throws -> T {
        func leaf(_ schema: JSONSchema, _ value: Any) -> T {
            node.kind = .leaf(schema)
            return value as! T
        }
        switch type {
        case let described as any JSONSchemaDescribed.Type: return leaf(described.jsonSchema, described.schemaPlaceholder)
        case is String.Type: return leaf(["type": "string"], "")
        case is Bool.Type: return leaf(["type": "boolean"], false)
        case let number as any BinaryFloatingPoint.Type: return leaf(["type": "number"], number.zero)
        case let integer as any FixedWidthInteger.Type:
            return leaf(integer.isSigned ? ["type": "integer"] : ["type": "integer", "minimum": 0], integer.zero)
        case is Date.Type: return leaf(["type": "string", "format": "date-time"], Date())
        case let enumeration as any CaseIterable.Type:
            let cases = allCases(enumeration)
            let names = cases.compactMap { ($0 as? any RawRepresentable)?.rawValue as? String }
            guard let first = cases.first, names.count == cases.count else { break }
            return leaf(["type": "string", "enum": names], first)
        default: break
        }
        return try T(from: Reflector(node: node))
    }

    private static func allCases<C: CaseIterable>(_ type: C.Type) -> [Any] { Array(type.allCases) }

    struct Reflector: Decoder {
        let node: Node
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            node.kind = .object
            return KeyedDecodingContainer(Keyed<Key>(node: node))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            node.kind = .array
            return Unkeyed(node: node)
        }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(node: node) }
    }

    /// A struct's keys, or (when `allKeys` is asked for) a dictionary's.
    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let node: Node
        var codingPath: [any CodingKey] = []
        var allKeys: [Key] {
            node.isMap = true
            return Key(stringValue: "*").map { [$0] } ?? []
        }
        func contains(_ key: Key) -> Bool { true }
        /// Asked only by `decodeIfPresent`: the key may be absent.
        func decodeNil(forKey key: Key) throws -> Bool {
            node.markOptional(key.stringValue)
            return false
        }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try SchemaReflection.value(type, into: node.property(key.stringValue)) }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(type as Bool.Type, key) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(type as String.Type, key) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(type as Double.Type, key) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decode(type as Float.Type, key) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(type as Int.Type, key) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decode(type as Int8.Type, key) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decode(type as Int16.Type, key) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decode(type as Int32.Type, key) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(type as Int64.Type, key) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decode(type as UInt.Type, key) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decode(type as UInt8.Type, key) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decode(type as UInt16.Type, key) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decode(type as UInt32.Type, key) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decode(type as UInt64.Type, key) }
        private func decode<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T {
            try SchemaReflection.value(type, into: node.property(key.stringValue))
        }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try Reflector(node: node.property(key.stringValue)).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try Reflector(node: node.property(key.stringValue)).unkeyedContainer()
        }
        func superDecoder() throws -> any Decoder { Reflector(node: node) }
        func superDecoder(forKey key: Key) throws -> any Decoder { Reflector(node: node.property(key.stringValue)) }
    }

    /// An array: one element is read, which describes them all.
    struct Unkeyed: UnkeyedDecodingContainer {
        let node: Node
        var codingPath: [any CodingKey] = []
        var count: Int? { 1 }
        var currentIndex = 0
        var isAtEnd: Bool { currentIndex > 0 }
        private var item: Node {
            if let items = node.items { return items }
            node.items = Node()
            return node.items!
        }
        mutating func decodeNil() throws -> Bool {
            item.nullable = true
            return false
        }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            currentIndex += 1
            return try SchemaReflection.value(type, into: item)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            currentIndex += 1
            return try Reflector(node: item).container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            currentIndex += 1
            return try Reflector(node: item).unkeyedContainer()
        }
        mutating func superDecoder() throws -> any Decoder {
            currentIndex += 1
            return Reflector(node: item)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let node: Node
        var codingPath: [any CodingKey] = []
        func decodeNil() -> Bool {
            node.nullable = true
            return false
        }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try SchemaReflection.value(type, into: node) }
        func decode(_ type: Bool.Type) throws -> Bool { try SchemaReflection.value(type, into: node) }
        func decode(_ type: String.Type) throws -> String { try SchemaReflection.value(type, into: node) }
        func decode(_ type: Double.Type) throws -> Double { try SchemaReflection.value(type, into: node) }
        func decode(_ type: Float.Type) throws -> Float { try SchemaReflection.value(type, into: node) }
        func decode(_ type: Int.Type) throws -> Int { try SchemaReflection.value(type, into: node) }
        func decode(_ type: Int8.Type) throws -> Int8 { try SchemaReflection.value(type, into: node) }
        func decode(_ type: Int16.Type) throws -> Int16 { try SchemaReflection.value(type, into: node) }
        func decode(_ type: Int32.Type) throws -> Int32 { try SchemaReflection.value(type, into: node) }
        func decode(_ type: Int64.Type) throws -> Int64 { try SchemaReflection.value(type, into: node) }
        func decode(_ type: UInt.Type) throws -> UInt { try SchemaReflection.value(type, into: node) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try SchemaReflection.value(type, into: node) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try SchemaReflection.value(type, into: node) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try SchemaReflection.value(type, into: node) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try SchemaReflection.value(type, into: node) }
    }
}

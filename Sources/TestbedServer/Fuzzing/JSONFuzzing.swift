/// Fuzzes the hand-written JSON parser that reads every prediction and V2 inference body.
enum JSONFuzzing {
    static func run(_ input: UnsafeRawBufferPointer) {
        guard let node = try? JSONParser.parse(input) else { return }
        visit(node)
    }

    /// Reads every value, so that a malformed node (say a string over freed bytes) is touched.
    private static func visit(_ node: JSONNode) {
        switch node {
        case .null, .bool: break
        case .number(let value): _ = value.isFinite
        case .string(let text): _ = text.utf8.count
        case .numbers(let values): _ = values.reduce(0, +)
        case .array(let elements): elements.forEach(visit)
        case .object(let members):
            for (name, value) in members {
                _ = node[name]
                visit(value)
            }
        }
        _ = node.kind
    }
}

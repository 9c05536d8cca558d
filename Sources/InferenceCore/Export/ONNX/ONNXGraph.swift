import Foundation

/// A graph under construction: nodes in the order they are added (which is topological, since a
/// node can only use names that exist), constant tensors, and value names that never collide with
/// the graph's inputs and outputs.
struct ONNXGraph {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    /// Names taken: the inputs and outputs (column names and `predict…`) and every value made so far.
    private var taken: Set<String>
    private var counter = 0
    /// Bytes of constant data so far, to refuse a graph that protobuf cannot hold before it is built.
    private(set) var constantBytes = 0

    /// - Parameter reserved: the names of the graph's inputs and outputs.
    init(reserved: Set<String>) {
        taken = reserved
    }

    /// A value name made from `hint` that no input, output or other value has.
    mutating func uniqueName(_ hint: String) -> String {
        var name: String
        repeat {
            counter += 1
            name = "\(hint)_\(counter)"
        } while taken.contains(name)
        taken.insert(name)
        return name
    }

    /// Adds a node with one output and returns the output's name (`output`, or a fresh one from `op`).
    @discardableResult
    mutating func add(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], domain: String = "",
                      output: String? = nil) -> String {
        add(op, inputs, attributes, domain: domain, outputs: [output]).first!
    }

    /// Adds a node with several outputs (`nil` entries get fresh names) and returns their names.
    mutating func add(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], domain: String = "",
                      outputs: [String?]) -> [String] {
        let names = outputs.map { $0 ?? uniqueName(op.lowercased()) }
        var node = Onnx_NodeProto()
        node.opType = op
        node.domain = domain
        node.input = inputs
        node.output = names
        node.attribute = attributes
        node.name = uniqueName("node_\(op)")
        nodes.append(node)
        return names
    }

    /// A constant tensor of doubles with `shape` (`nil`: one dimension of `values.count`).
    mutating func constant(_ values: [Double], shape: [Int]? = nil, hint: String = "c") -> String {
        var tensor = ONNXTensor.doubles(values, shape: shape ?? [values.count])
        return addInitializer(&tensor, bytes: values.count * 8, hint: hint)
    }

    /// A constant tensor of 64-bit integers.
    mutating func constant(int64 values: [Int64], shape: [Int]? = nil, hint: String = "c") -> String {
        var tensor = ONNXTensor.int64s(values, shape: shape ?? [values.count])
        return addInitializer(&tensor, bytes: values.count * 8, hint: hint)
    }

    /// A constant tensor of strings.
    mutating func constant(strings values: [String], shape: [Int]? = nil, hint: String = "c") -> String {
        var tensor = ONNXTensor.strings(values, shape: shape ?? [values.count])
        return addInitializer(&tensor, bytes: values.reduce(0) { $0 + $1.utf8.count + 2 }, hint: hint)
    }

    /// A scalar double constant (rank 0), which broadcasts against any tensor.
    mutating func scalar(_ value: Double) -> String { constant([value], shape: [], hint: "s") }

    /// A scalar 64-bit integer constant.
    mutating func scalar(int64 value: Int64) -> String { constant(int64: [value], shape: [], hint: "s") }

    private mutating func addInitializer(_ tensor: inout Onnx_TensorProto, bytes: Int, hint: String) -> String {
        tensor.name = uniqueName(hint)
        initializers.append(tensor)
        constantBytes += bytes
        return tensor.name
    }

    /// Records `bytes` of attribute data (tree nodes), which count towards the model's size like constants.
    mutating func countAttributeBytes(_ bytes: Int) {
        constantBytes += bytes
    }
}

/// A fitted model that can write its prediction as ONNX nodes.
protocol ONNXExportableModel: FittedModel {
    /// Appends the nodes that map the encoded matrix `x` (`[N, inputWidth]`, double) to what
    /// ``FittedModel/predict(_:)`` returns: regression values `[N, 1]` or class probabilities
    /// `[N, C]`, as doubles. Returns the name of that tensor.
    func appendPrediction(to graph: inout ONNXGraph, input x: String) throws -> String

    /// Whether some operator on the path computes in single precision (none does today; kept so that
    /// the check and the metadata say so if one ever does).
    var computesInFloat: Bool { get }

    /// The bytes of constants and attributes the graph will hold, estimated before it is built (so
    /// that a model too large for one protobuf message is refused rather than half-written), or
    /// `nil` if it overflows.
    var estimatedGraphBytes: Int? { get }
}

extension ONNXExportableModel {
    var computesInFloat: Bool { false }
}

/// The links between scores and probabilities that several families share, written as ours
/// compute them. ONNX Runtime's own `Sigmoid` on doubles is accurate to about 1e-16 absolute, not
/// relative (measured with onnxruntime 1.32: 0.1% off at log-odds −30, and 0 below −37, where ours
/// gives 9e-14 and 9e-17); and how its `Softmax` computes is an implementation detail we cannot pin. `Exp` agrees with the C library's to
/// within 1.4 ulp, so both are built from it.
extension ONNXGraph {
    /// Two-class probabilities `[1 − σ(z), σ(z)]` from one column of log-odds `[N, 1]`, with
    /// ``Sigmoid/value(_:)``'s stable form: `1 / (1 + e^−z)` for `z ≥ 0`, `e^z / (1 + e^z)` below.
    mutating func binaryProbabilities(logOdds z: String) -> String {
        let one = scalar(1)
        let upper = add("Div", [one, add("Add", [one, add("Exp", [add("Neg", [z])])])])
        let exponential = add("Exp", [z])
        let lower = add("Div", [exponential, add("Add", [one, exponential])])
        // Where picks one branch per element; the other may be inf or NaN and is never seen.
        let positive = add("Where", [add("GreaterOrEqual", [z, scalar(0)]), upper, lower])
        return add("Concat", [add("Sub", [one, positive]), positive], [ONNXAttribute.int("axis", 1)])
    }

    /// Softmax over each row of scores `[N, C]` as ``Softmax/normalize(_:)``: `e^(s − max)` divided
    /// by its sum over the row.
    mutating func softmax(_ scores: String) -> String {
        let axis = constant(int64: [1], hint: "axes")
        let maximum = add("ReduceMax", [scores, axis], [ONNXAttribute.int("keepdims", 1)])
        let exponentials = add("Exp", [add("Sub", [scores, maximum])])
        return add("Div", [exponentials, add("ReduceSum", [exponentials, axis], [ONNXAttribute.int("keepdims", 1)])])
    }
}

/// Size arithmetic that reports overflow as `nil` rather than trapping: the sizes come from a
/// model file.
enum CheckedSize {
    static func product(_ factors: Int...) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = value
        }
        return result
    }

    static func sum(_ terms: [Int?]) -> Int? {
        var total = 0
        for term in terms {
            guard let term else { return nil }
            let (value, overflow) = total.addingReportingOverflow(term)
            if overflow { return nil }
            total = value
        }
        return total
    }
}

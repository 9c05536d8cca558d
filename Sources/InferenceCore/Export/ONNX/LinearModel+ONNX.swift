/// `z = x · Wᵀ + b` as `MatMul` and `Add`, then the link: none, `Sigmoid` (two classes) or `Softmax`.
extension LinearModel: ONNXExportableModel {
    func appendPrediction(to graph: inout ONNXGraph, input x: String) throws -> String {
        let transposed = coefficients.transposed()
        let weights = graph.constant(transposed.storage, shape: [transposed.rows, transposed.columns], hint: "weights")
        let scores = graph.add("Add", [graph.add("MatMul", [x, weights]), graph.constant(intercepts, hint: "intercepts")])
        switch link {
        case .identity: return scores
        case .logistic: return graph.binaryProbabilities(logOdds: scores)
        case .softmax: return graph.softmax(scores)
        }
    }

    var estimatedGraphBytes: Int? {
        CheckedSize.sum([CheckedSize.product(coefficients.rows, coefficients.columns, 8), CheckedSize.product(intercepts.count, 8)])
    }
}

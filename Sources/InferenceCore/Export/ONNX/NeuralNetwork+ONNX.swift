/// Dense layers as `MatMul` and `Add` with `Relu` between them, then `Softmax` (classification) or
/// the rescaling to the target's units, `y · scale + mean` (regression).
extension NeuralNetwork: ONNXExportableModel {
    func appendPrediction(to graph: inout ONNXGraph, input x: String) throws -> String {
        var activation = x
        for (index, layer) in layers.enumerated() {
            let weights = graph.constant(layer.weights.storage, shape: [layer.weights.rows, layer.weights.columns], hint: "weights")
            activation = graph.add("Add", [graph.add("MatMul", [activation, weights]), graph.constant(layer.biases, hint: "biases")])
            if index < layers.count - 1 { activation = graph.add("Relu", [activation]) }
        }
        if softmax { return graph.softmax(activation) }
        return graph.add("Add", [graph.add("Mul", [activation, graph.scalar(targetScale)]), graph.scalar(targetMean)])
    }

    var estimatedGraphBytes: Int? {
        CheckedSize.sum(layers.map { CheckedSize.product(CheckedSize.sum([$0.weights.storage.count, $0.biases.count]) ?? -1, 8) })
    }
}

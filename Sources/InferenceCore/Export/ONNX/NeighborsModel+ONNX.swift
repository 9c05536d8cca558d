/// k nearest neighbours from standard operators: squared distances as ours compute them,
/// `max(‖q‖² − 2·q·p + ‖p‖², 0)` (`ReduceSumSquare`, `MatMul`), the k smallest with `TopK`
/// (sorted, the lower training row first on equal distances, as ours), then the mean of their
/// targets or their class votes.
extension NeighborsModel: ONNXExportableModel {
    func appendPrediction(to graph: inout ONNXGraph, input x: String) throws -> String {
        let transposed = points.transposed()
        let pointsT = graph.constant(transposed.storage, shape: [transposed.rows, transposed.columns], hint: "training_rows")
        let queryNorms = graph.add("ReduceSumSquare", [x, graph.constant(int64: [1], hint: "axes")], [ONNXAttribute.int("keepdims", 1)])
        let products = graph.add("MatMul", [x, pointsT])
        let squared = graph.add("Add", [graph.add("Sub", [queryNorms, graph.add("Mul", [products, graph.scalar(2)])]),
                                        graph.constant(pointNorms, hint: "point_norms")])
        let distances = graph.add("Max", [squared, graph.scalar(0)])
        let nearest = graph.add("TopK", [distances, graph.constant(int64: [Int64(k)], hint: "k")],
                                [ONNXAttribute.int("largest", 0), ONNXAttribute.int("sorted", 1)], outputs: [nil, nil])[1]
        let axis = graph.constant(int64: [1], hint: "axes")
        if classCount == 0 {
            let values = graph.add("Gather", [graph.constant(targets, hint: "targets"), nearest])
            let sum = graph.add("ReduceSum", [values, axis], [ONNXAttribute.int("keepdims", 1)])
            return graph.add("Div", [sum, graph.scalar(Double(k))])
        }
        // Votes are counted as whole numbers (exact in any order of addition), then looked up in
        // what ours gives for each count: 1/k added that many times. Adding 1/k in ONNX Runtime's
        // order could round two equal counts differently and break a tie the other way.
        var hits = [Double](repeating: 0, count: points.rows * classCount)
        for (row, target) in targets.enumerated() { hits[row * classCount + Int(target)] = 1 }
        let gathered = graph.add("Gather", [graph.constant(hits, shape: [points.rows, classCount], hint: "class_of_row"), nearest])
        let counts = graph.add("ReduceSum", [gathered, axis], [ONNXAttribute.int("keepdims", 0)])
        var shares = [0.0]
        for _ in 0..<k { shares.append(shares[shares.count - 1] + 1 / Double(k)) }
        return graph.add("Gather", [graph.constant(shares, hint: "vote_shares"), graph.add("Cast", [counts], [ONNXAttribute.to(.int64)])])
    }

    var estimatedGraphBytes: Int? {
        CheckedSize.product(points.rows, CheckedSize.sum([points.columns, max(classCount, 1), 2]) ?? -1, 8)
    }
}

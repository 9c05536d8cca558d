/// Trees as `ai.onnx.ml` `TreeEnsemble` nodes (operator set 5), which read and add in double.
///
/// Our trees send a row left when `x <= threshold`, or when `x` is NaN and the node's
/// `missing_left` is set: `BRANCH_LEQ` with `nodes_missing_value_tracks_true`. A NaN compares
/// false, so without the flag it goes right, as ours.
///
/// Ours add the trees' values one tree after the other; ONNX Runtime adds the trees of one node in
/// an order that depends on the batch size and its threads (measured: a forest's probabilities
/// differed in the last bit between one row and a batch, which turned exact ties between two
/// classes into different labels). So each node holds trees that add to different outputs (one
/// tree, or one round of boosting), where a sum is a single value, and `Add` nodes chain them in
/// our order: every score is bit for bit ours.
struct ONNXTreeEnsemble {
    /// One tree and the output (target) each of its leaves adds to, with each leaf's value.
    struct Member {
        var tree: FlatTree
        var target: Int
        /// The value a leaf adds, from its node index.
        var leafWeight: (Int) -> Double
    }

    var targets: Int
    var members: [Member]

    /// The bytes of attributes the node will hold: about 8 integers and 2 doubles per node.
    static func estimatedBytes(nodes: Int?, copies: Int = 1) -> Int? {
        guard let nodes else { return nil }
        return CheckedSize.product(nodes, copies, 80)
    }

    /// Appends the node; its output is `[N, targets]`, the sum of the leaves' values per target.
    /// (Each target should have one tree in it, for the reason above.)
    func append(to graph: inout ONNXGraph, input x: String) -> String {
        var roots: [Int] = [], features: [Int] = [], splits: [Double] = [], missingTrue: [Int] = []
        var trueIDs: [Int] = [], trueLeaf: [Int] = [], falseIDs: [Int] = [], falseLeaf: [Int] = []
        var leafTargets: [Int] = [], leafWeights: [Double] = []
        for member in members {
            let tree = member.tree
            // Positions of this tree's inner nodes among nodes_*, and of its leaves among leaf_*.
            var position = [Int](repeating: -1, count: tree.nodeCount)
            var nextInner = features.count
            for node in 0..<tree.nodeCount {
                if tree.feature[node] >= 0 {
                    position[node] = nextInner
                    nextInner += 1
                } else {
                    position[node] = leafTargets.count
                    leafTargets.append(member.target)
                    leafWeights.append(member.leafWeight(node))
                }
            }
            if tree.feature[0] < 0 {
                // A tree that is one leaf: one node whose two branches both reach it (as the operator's documentation says).
                roots.append(features.count)
                features.append(0); splits.append(0); missingTrue.append(0)
                trueIDs.append(position[0]); trueLeaf.append(1); falseIDs.append(position[0]); falseLeaf.append(1)
                continue
            }
            roots.append(features.count)
            for node in 0..<tree.nodeCount where tree.feature[node] >= 0 {
                let left = Int(tree.left[node]), right = Int(tree.right[node])
                features.append(Int(tree.feature[node]))
                splits.append(tree.threshold[node])
                missingTrue.append(tree.missingLeft[node] ? 1 : 0)
                trueIDs.append(position[left]); trueLeaf.append(tree.feature[left] < 0 ? 1 : 0)
                falseIDs.append(position[right]); falseLeaf.append(tree.feature[right] < 0 ? 1 : 0)
            }
        }
        graph.countAttributeBytes(features.count * 64 + leafTargets.count * 16)
        let attributes = [
            ONNXAttribute.int("n_targets", targets),
            ONNXAttribute.int("aggregate_function", 1),  // SUM
            ONNXAttribute.int("post_transform", 0),      // NONE: links are separate nodes in double
            ONNXAttribute.ints("tree_roots", roots),
            ONNXAttribute.tensor("nodes_modes", ONNXTensor.uint8s([UInt8](repeating: 0, count: features.count), shape: [features.count])),  // BRANCH_LEQ
            ONNXAttribute.ints("nodes_featureids", features),
            ONNXAttribute.tensor("nodes_splits", ONNXTensor.doubles(splits, shape: [splits.count])),
            ONNXAttribute.ints("nodes_missing_value_tracks_true", missingTrue),
            ONNXAttribute.ints("nodes_truenodeids", trueIDs),
            ONNXAttribute.ints("nodes_trueleafs", trueLeaf),
            ONNXAttribute.ints("nodes_falsenodeids", falseIDs),
            ONNXAttribute.ints("nodes_falseleafs", falseLeaf),
            ONNXAttribute.ints("leaf_targetids", leafTargets),
            ONNXAttribute.tensor("leaf_weights", ONNXTensor.doubles(leafWeights, shape: [leafWeights.count])),
        ]
        return graph.add("TreeEnsemble", [x], attributes, domain: "ai.onnx.ml")
    }
}

extension ONNXGraph {
    /// `start` (`[N, targets]`, or `nil` for zeros) plus each group's trees, group after group.
    mutating func sumOfTrees(_ groups: [ONNXTreeEnsemble], input x: String, start: String?) -> String {
        var sum = start
        for group in groups {
            let values = group.append(to: &self, input: x)
            sum = sum.map { add("Add", [$0, values]) } ?? values
        }
        return sum!
    }

    /// `values` (one per output) repeated for every row of `x`: `[N, values.count]`.
    mutating func perRow(_ values: [Double], like x: String) -> String {
        let rows = add("Shape", [x], [ONNXAttribute.int("start", 0), ONNXAttribute.int("end", 1)])
        let shape = add("Concat", [rows, constant(int64: [Int64(values.count)], hint: "width")], [ONNXAttribute.int("axis", 0)])
        return add("Expand", [constant(values, shape: [1, values.count], hint: "baseline"), shape])
    }
}

/// Gradient boosting: the baseline, plus each round's trees (tree `t` adds to output
/// `t mod outputs`), then the link.
extension BoostedTrees: ONNXExportableModel {
    func appendPrediction(to graph: inout ONNXGraph, input x: String) throws -> String {
        let rounds = stride(from: 0, to: trees.count, by: outputs).map { first in
            ONNXTreeEnsemble(targets: outputs, members: (0..<outputs).map { k in
                let tree = trees[first + k]
                return ONNXTreeEnsemble.Member(tree: tree, target: k) { tree.value[$0] }
            })
        }
        let scores = graph.sumOfTrees(rounds, input: x, start: graph.perRow(baseline, like: x))
        switch loss {
        case .squaredError: return scores
        case .logLoss: return graph.binaryProbabilities(logOdds: scores)
        case .softmax: return graph.softmax(scores)
        }
    }

    var estimatedGraphBytes: Int? {
        ONNXTreeEnsemble.estimatedBytes(nodes: CheckedSize.sum(trees.map(\.nodeCount)))
    }
}

/// A random forest: the mean of its trees, as the sum of leaf values each multiplied by 1/trees
/// (the product ours computes). A `TreeEnsemble` leaf adds to one target, so a classification
/// forest's tree appears once per class.
extension ForestModel: ONNXExportableModel {
    func appendPrediction(to graph: inout ONNXGraph, input x: String) throws -> String {
        let scale = 1 / Double(trees.count)
        let perTree = trees.map { tree in
            ONNXTreeEnsemble(targets: outputs, members: (0..<outputs).map { output in
                ONNXTreeEnsemble.Member(tree: tree, target: output) { scale * tree.value[$0 * tree.outputs + output] }
            })
        }
        return graph.sumOfTrees(perTree, input: x, start: nil)
    }

    var estimatedGraphBytes: Int? {
        ONNXTreeEnsemble.estimatedBytes(nodes: CheckedSize.sum(trees.map(\.nodeCount)), copies: outputs)
    }
}

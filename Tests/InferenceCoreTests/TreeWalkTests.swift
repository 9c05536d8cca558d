import CBLAS
import Testing
@testable import InferenceCore

/// ``FlatTree/accumulate(_:_:into:stride:scale:sideBySideRows:offset:)`` walks a block's rows of one
/// tree side by side, and a single row's trees side by side. Both walks, a walk of the tree's own
/// arrays, and a batch against its rows one at a time, must give the same bits.
@Suite("Tree walks")
struct TreeWalkTests {
    static let cases: [(algorithm: String, dataset: String, target: String)] = ["random_forest", "gbdt"].flatMap { algorithm in
        [(algorithm, "Servo.csv", "Class"), (algorithm, "Ozone.csv", "V4"), (algorithm, "Glass.csv", "Type"), (algorithm, "Vehicle.csv", "Class")]
    }

    /// The dataset's design matrix with every 7th value missing, so that walks also follow the
    /// side each split learned for missing values.
    static func inputs(_ dataset: String, target: String) throws -> (Matrix, Target) {
        let design = try TestData.design(dataset, target: target, exclude: [])
        var x = design.matrix
        for index in Swift.stride(from: 3, to: x.storage.count, by: 7) { x.storage[index] = .nan }
        return (x, design.target)
    }

    @Test("Trees walked side by side add the same bits as trees walked in turn", arguments: cases)
    func sideBySideWalkEqualsTheWalkInTurn(_ algorithm: String, _ dataset: String, _ target: String) throws {
        let (x, labels) = try Self.inputs(dataset, target: target)
        let family = try AlgorithmRegistry.named(algorithm)
        // 21 trees or rounds: the last group of trees walked side by side is not full.
        let fitted = try family.fit(x, labels, parameters: family.resolve(algorithm == "gbdt" ? ["max_iter": 21] : ["n_estimators": 21]), seed: 5)
        let trees: [FlatTree], stride: Int, offset: (Int) -> Int
        if let forest = fitted as? ForestModel {
            (trees, stride, offset) = (forest.trees, forest.outputs, { _ in 0 })
        } else {
            let boosted = try #require(fitted as? BoostedTrees)
            (trees, stride, offset) = (boosted.trees, boosted.outputs, { [outputs = boosted.outputs] in $0 % outputs })
        }
        #expect(trees.count > testbed_tree_lanes && x.rows > testbed_tree_lanes && trees.contains { $0.depth > 2 })
        func accumulated(sideBySideRows: Int) -> [Double] {
            var scores = [Double](repeating: 0.5, count: x.rows * stride)
            FlatTree.accumulate(trees, x, into: &scores, stride: stride, scale: 0.3, sideBySideRows: sideBySideRows, offset: offset)
            return scores
        }
        let inTurn = accumulated(sideBySideRows: 0), sideBySide = accumulated(sideBySideRows: x.rows)
        #expect(inTurn.map(\.bitPattern) == sideBySide.map(\.bitPattern))
        #expect(Set(inTurn).count > 1)

        // The walks of the packed nodes against a walk of the tree's own arrays, as exported and saved.
        var reference = [Double](repeating: 0.5, count: x.rows * stride)
        for (index, tree) in trees.enumerated() {
            for row in 0..<x.rows {
                var node = 0
                while tree.feature[node] >= 0 { node = tree.childByArrays(node, x[row, Int(tree.feature[node])]) }
                for k in 0..<tree.outputs { reference[row * stride + offset(index) + k] += 0.3 * tree.value[node * tree.outputs + k] }
            }
        }
        #expect(reference.map(\.bitPattern) == inTurn.map(\.bitPattern))

        // The model as served: the whole batch, and each row alone.
        let batch = fitted.predict(x)
        for row in 0..<x.rows {
            let alone = fitted.predict(x.selectingRows([row]))
            #expect(alone.storage.map(\.bitPattern) == batch.storage[row * batch.columns ..< (row + 1) * batch.columns].map(\.bitPattern))
        }
    }
}

extension FlatTree {
    /// The child of inner node `node` that an input `value` goes to, by the tree's own arrays (as
    /// exported and saved), not its packed nodes: the reference the walks are checked against.
    func childByArrays(_ node: Int, _ value: Double) -> Int {
        Int(value <= threshold[node] || (value.isNaN && missingLeft[node]) ? left[node] : right[node])
    }
}

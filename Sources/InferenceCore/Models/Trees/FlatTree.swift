/// A regression tree in flat arrays, node 0 the root: a node is a leaf when `feature` is -1.
/// An input goes left when its value is at most `threshold`, or when it is missing and
/// `missingLeft` is set.
public struct FlatTree: Sendable, Codable, Equatable {
    /// Values per node: 1 for a boosted tree, the number of classes for a classification forest's.
    public var outputs = 1
    public var feature: [Int32] = []
    public var threshold: [Double] = []
    public var missingLeft: [Bool] = []
    public var left: [Int32] = []
    public var right: [Int32] = []
    /// Leaf outputs, `outputs` per node (learning rate included); unused for inner nodes.
    public var value: [Double] = []
    /// Training rows (weighted) that reached each node: TreeSHAP's background distribution.
    public var cover: [Double] = []
    /// The loss reduction of each node's split; 0 for leaves. Summed per feature for gain importance.
    public var gain: [Double] = []

    enum CodingKeys: String, CodingKey {
        case outputs, feature, threshold, left, right, value, cover, gain
        case missingLeft = "missing_left"
    }

    init(outputs: Int = 1) {
        self.outputs = outputs
    }

    public var nodeCount: Int { feature.count }

    mutating func addNode(cover: Double) -> Int {
        feature.append(-1)
        threshold.append(0)
        missingLeft.append(false)
        left.append(-1)
        right.append(-1)
        value.append(contentsOf: repeatElement(0, count: outputs))
        self.cover.append(cover)
        gain.append(0)
        return feature.count - 1
    }

    /// Makes `node` a split whose children are two new nodes; returns them.
    mutating func split(_ node: Int, feature splitFeature: Int, threshold splitThreshold: Double, missingLeft goesLeft: Bool,
                        gain splitGain: Double, covers: (left: Double, right: Double)) -> (left: Int, right: Int) {
        let children = (addNode(cover: covers.left), addNode(cover: covers.right))
        feature[node] = Int32(splitFeature)
        threshold[node] = splitThreshold
        missingLeft[node] = goesLeft
        gain[node] = splitGain
        left[node] = Int32(children.0)
        right[node] = Int32(children.1)
        return children
    }

    /// Adds every tree's outputs for every row of `x` to `scores` (`stride` per row): output `k` of
    /// tree `t`, times `scale`, goes to `scores[row * stride + offset(t) + k]`.
    ///
    /// Rows are taken in blocks, all trees per block, so that a block's inputs stay in cache while
    /// the trees walk them; within a row, trees add in order, so results do not depend on the block size.
    static func accumulate(_ trees: [FlatTree], _ x: Matrix, into scores: inout [Double], stride: Int, scale: Double = 1,
                           offset: (Int) -> Int) {
        let blockRows = 512
        x.storage.withUnsafeBufferPointer { inputs in
            scores.withUnsafeMutableBufferPointer { scores in
                for blockStart in Swift.stride(from: 0, to: x.rows, by: blockRows) {
                    let rows = blockStart ..< Swift.min(blockStart + blockRows, x.rows)
                    for (index, tree) in trees.enumerated() {
                        let base = offset(index)
                        tree.withNodes { nodes in
                            for row in rows {
                                let leaf = nodes.leaf(inputs.baseAddress! + row * x.columns)
                                for k in 0..<nodes.outputs { scores[row * stride + base + k] += scale * nodes.value[leaf * nodes.outputs + k] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body` with unchecked views of the tree's arrays, for the hot loops of prediction and explanation.
    func withNodes<Result>(_ body: (TreeNodes) throws -> Result) rethrows -> Result {
        try feature.withUnsafeBufferPointer { feature in
            try threshold.withUnsafeBufferPointer { threshold in
                try missingLeft.withUnsafeBufferPointer { missingLeft in
                    try left.withUnsafeBufferPointer { left in
                        try right.withUnsafeBufferPointer { right in
                            try value.withUnsafeBufferPointer { value in
                                try cover.withUnsafeBufferPointer { cover in
                                    try body(TreeNodes(
                                        feature: feature.baseAddress!, threshold: threshold.baseAddress!, missingLeft: missingLeft.baseAddress!,
                                        left: left.baseAddress!, right: right.baseAddress!, value: value.baseAddress!,
                                        cover: cover.baseAddress!, outputs: outputs))
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds each split's gain to its feature's entry of `importance`.
    func addGains(to importance: inout [Double]) {
        for node in 0..<nodeCount where feature[node] >= 0 { importance[Int(feature[node])] += gain[node] }
    }
}

/// Unchecked views of a ``FlatTree``'s arrays, valid inside ``FlatTree/withNodes(_:)``.
struct TreeNodes {
    let feature: UnsafePointer<Int32>
    let threshold: UnsafePointer<Double>
    let missingLeft: UnsafePointer<Bool>
    let left: UnsafePointer<Int32>
    let right: UnsafePointer<Int32>
    let value: UnsafePointer<Double>
    let cover: UnsafePointer<Double>
    let outputs: Int

    /// The leaf one row of inputs reaches.
    @inline(__always)
    func leaf(_ row: UnsafePointer<Double>) -> Int {
        var node = 0
        while feature[node] >= 0 { node = child(node, row) }
        return node
    }

    /// The child of inner node `node` that `row` goes to.
    @inline(__always)
    func child(_ node: Int, _ row: UnsafePointer<Double>) -> Int {
        let x = row[Int(feature[node])]
        // Arithmetic rather than a branch: which way a row goes is unpredictable, and a mispredicted
        // branch per level cost more than the rest of the walk.
        let greater = x > threshold[node] ? 1 : 0
        let missingRight = x.isNaN && !missingLeft[node] ? 1 : 0
        let (l, r) = (Int(left[node]), Int(right[node]))
        return l &+ (greater | missingRight) &* (r &- l)
    }
}

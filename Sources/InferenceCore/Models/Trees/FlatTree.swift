import CBLAS

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
    /// The nodes as a walk reads them, built from the arrays above by ``pack()``.
    private(set) var packed: PackedTree?
    /// The number of splits on the longest path from the root (sizes TreeSHAP's workspace). Set by ``pack()``.
    private(set) var depth = 0

    enum CodingKeys: String, CodingKey {
        case outputs, feature, threshold, left, right, value, cover, gain
        case missingLeft = "missing_left"
    }

    init(outputs: Int = 1) {
        self.outputs = outputs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        outputs = try container.decode(Int.self, forKey: .outputs)
        feature = try container.decode([Int32].self, forKey: .feature)
        threshold = try container.decode([Double].self, forKey: .threshold)
        missingLeft = try container.decode([Bool].self, forKey: .missingLeft)
        left = try container.decode([Int32].self, forKey: .left)
        right = try container.decode([Int32].self, forKey: .right)
        value = try container.decode([Double].self, forKey: .value)
        cover = try container.decode([Double].self, forKey: .cover)
        gain = try container.decode([Double].self, forKey: .gain)
        let counts = [threshold.count, missingLeft.count, left.count, right.count, cover.count, gain.count]
        let nodes = feature.count
        let (values, overflow) = nodes.multipliedReportingOverflow(by: outputs)
        guard outputs >= 1, counts.allSatisfy({ $0 == nodes }), !overflow, value.count == values, nodes > 0,
              (0..<nodes).allSatisfy({ node in
                  // Children come after their parent (as trees are grown), which also rules out cycles.
                  feature[node] < 0 || ((node + 1..<nodes) ~= Int(left[node]) && (node + 1..<nodes) ~= Int(right[node]))
              }), Self.everyNodeHasOneParent(feature: feature, left: left, right: right) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a tree's node arrays differ in length or point outside the tree"))
        }
        pack()
    }

    /// No node is the child of two splits (or twice of one): the nodes form a tree, not a graph
    /// whose longest path is longer than ``depth`` says, which TreeSHAP's workspace is sized by.
    private static func everyNodeHasOneParent(feature: [Int32], left: [Int32], right: [Int32]) -> Bool {
        var hasParent = [Bool](repeating: false, count: feature.count)
        for node in feature.indices where feature[node] >= 0 {
            for child in [Int(left[node]), Int(right[node])] {
                if hasParent[child] { return false }
                hasParent[child] = true
            }
        }
        return true
    }

    /// Builds ``packed`` and ``depth`` from the node arrays; called once a tree is complete (the
    /// arrays are not changed after it).
    mutating func pack() {
        // Depth-first, left before right: a split's left child comes right after it.
        var order: [Int] = [], position = [Int32](repeating: 0, count: feature.count), pending = [0]
        var levels = [Int](repeating: 0, count: feature.count)
        order.reserveCapacity(feature.count)
        while let node = pending.popLast() {
            position[node] = Int32(order.count)
            order.append(node)
            if feature[node] >= 0 {
                levels[Int(left[node])] = levels[node] + 1
                levels[Int(right[node])] = levels[node] + 1
                pending.append(Int(right[node]))
                pending.append(Int(left[node]))
            }
        }
        let nodes = order.map { node in
            // A leaf sends every input (missing ones too) to itself, so that a walk which goes on
            // (a lane of ``testbed_tree_leaves`` waiting for the others) stays at the leaf it reached.
            feature[node] < 0
                ? testbed_tree_node(threshold: .nan, column: 0, right: position[node])
                : testbed_tree_node(threshold: threshold[node], column: UInt32(feature[node]) | (missingLeft[node] ? testbed_tree_missing_left : 0),
                                    right: position[Int(right[node])])
        }
        packed = PackedTree(nodes: nodes, value: order.flatMap { value[$0 * outputs ..< ($0 + 1) * outputs] },
                            cover: order.map { cover[$0] })
        depth = levels.max() ?? 0
    }

    /// Trees are equal when their node arrays are; ``packed`` and ``depth`` are derived from them.
    public static func == (a: FlatTree, b: FlatTree) -> Bool {
        a.outputs == b.outputs && a.feature == b.feature && a.threshold == b.threshold && a.missingLeft == b.missingLeft
            && a.left == b.left && a.right == b.right && a.value == b.value && a.cover == b.cover && a.gain == b.gain
    }

    public var nodeCount: Int { feature.count }

    /// What does not fit in a decoded tree for inputs of `inputWidth` columns: a split on a column
    /// beyond them would read past the row.
    func inconsistency(inputWidth: Int) -> String? {
        guard let bad = feature.first(where: { $0 >= inputWidth }) else { return nil }
        return "a tree splits on input \(bad) of \(inputWidth)"
    }

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
    /// Rows are taken in blocks of about 2 MB of inputs, all trees per block, so that a block stays
    /// in cache while every tree walks it; larger blocks let a deep tree's nodes serve more rows
    /// before it is evicted (measured with an earlier walk: 512 rows made forests 1.9× slower, whole
    /// batches made boosting 2× slower). Each tree walks a block's rows ``testbed_tree_lanes`` at a
    /// time (``testbed_tree_leaves``). A batch of at most `sideBySideRows` rows (by default a single
    /// row, which has no other rows to walk beside) walks its trees side by side instead
    /// (``testbed_forest_leaves``). Within a row, trees add in order, so results do not depend on
    /// the block size or the walk.
    static func accumulate(_ trees: [FlatTree], _ x: Matrix, into scores: inout [Double], stride: Int, scale: Double = 1,
                           sideBySideRows: Int = 1, offset: (Int) -> Int) {
        let blockRows = Swift.max(256, (2 << 20) / (8 * Swift.max(x.columns, 1)))
        // Valid while the trees are: `trees` holds them for the whole call.
        let views = trees.map(\.nodes), offsets = trees.indices.map(offset)
        x.storage.withUnsafeBufferPointer { inputs in
            scores.withUnsafeMutableBufferPointer { scores in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: Swift.max(trees.count, Swift.min(blockRows, x.rows))) { leaves in
                    func add(_ tree: Int, _ leaf: Int32, row: Int) {
                        let nodes = views[tree], base = row * stride + offsets[tree]
                        for k in 0..<nodes.outputs { scores[base + k] += scale * nodes.value[Int(leaf) * nodes.outputs + k] }
                    }
                    // A walk reads a leaf's (unused) input 0, which a row of no columns lacks; with
                    // nothing to split on, every tree is its root leaf.
                    guard x.columns > 0 else {
                        for row in 0..<x.rows { for tree in views.indices { add(tree, 0, row: row) } }
                        return
                    }
                    if x.rows <= sideBySideRows {
                        let roots = views.map { Optional($0.nodes) }
                        for row in 0..<x.rows {
                            testbed_forest_leaves(roots, trees.count, inputs.baseAddress! + row * x.columns, leaves.baseAddress!)
                            for tree in views.indices { add(tree, leaves[tree], row: row) }
                        }
                        return
                    }
                    for blockStart in Swift.stride(from: 0, to: x.rows, by: blockRows) {
                        let rows = blockStart ..< Swift.min(blockStart + blockRows, x.rows)
                        for tree in views.indices {
                            testbed_tree_leaves(views[tree].nodes, inputs.baseAddress! + rows.lowerBound * x.columns, x.columns, rows.count, leaves.baseAddress!)
                            for (row, leaf) in zip(rows, leaves) { add(tree, leaf, row: row) }
                        }
                    }
                }
            }
        }
    }

    /// Unchecked views of the tree's packed nodes, values and covers, for the hot loops of
    /// prediction and explanation, valid while the tree is. The tree must be packed.
    var nodes: TreeNodes {
        guard let packed else { preconditionFailure("the tree was not packed") }
        return TreeNodes(nodes: packed.nodes.baseAddress!, value: packed.value.baseAddress!, cover: packed.cover.baseAddress!, outputs: outputs)
    }

    /// Adds each split's gain to its feature's entry of `importance`.
    func addGains(to importance: inout [Double]) {
        for node in 0..<nodeCount where feature[node] >= 0 { importance[Int(feature[node])] += gain[node] }
    }
}

/// A tree's nodes as a walk reads them, 16 bytes each, in depth-first order so that a left child is
/// the next node (often in the same cache line), with the leaf outputs and covers in the same order.
/// In memory of its own, never changed, so that a batch can hold every tree's nodes at once.
final class PackedTree: @unchecked Sendable {
    let nodes: UnsafeMutableBufferPointer<testbed_tree_node>
    let value: UnsafeMutableBufferPointer<Double>
    let cover: UnsafeMutableBufferPointer<Double>

    init(nodes: [testbed_tree_node], value: [Double], cover: [Double]) {
        self.nodes = .allocate(capacity: nodes.count)
        _ = self.nodes.initialize(from: nodes)
        self.value = .allocate(capacity: value.count)
        _ = self.value.initialize(from: value)
        self.cover = .allocate(capacity: cover.count)
        _ = self.cover.initialize(from: cover)
    }

    deinit {
        nodes.deallocate()
        value.deallocate()
        cover.deallocate()
    }
}

/// Unchecked views of a ``FlatTree``'s nodes (``FlatTree/nodes``), valid while the tree is.
struct TreeNodes {
    let nodes: UnsafePointer<testbed_tree_node>
    let value: UnsafePointer<Double>
    let cover: UnsafePointer<Double>
    let outputs: Int

    /// A leaf points to itself (``FlatTree/pack()``).
    @inline(__always) func isLeaf(_ node: Int) -> Bool { Int(nodes[node].right) == node }
    @inline(__always) func feature(_ node: Int) -> Int { Int(nodes[node].column & ~testbed_tree_missing_left) }
    @inline(__always) func left(_ node: Int) -> Int { node + 1 }
    @inline(__always) func right(_ node: Int) -> Int { Int(nodes[node].right) }

    /// The child of inner node `node` that `row` goes to.
    @inline(__always)
    func child(_ node: Int, _ row: UnsafePointer<Double>) -> Int {
        Int(testbed_tree_child(nodes, Int32(node), row))
    }
}


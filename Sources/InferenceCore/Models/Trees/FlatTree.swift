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
    /// What a walk from root to leaf reads of each node, packed side by side (one cache line holds
    /// two or three nodes instead of a line per array). Derived from the arrays above by ``pack()``.
    private(set) var packed: [PackedNode] = []
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

    /// Builds ``packed`` and ``depth`` from the node arrays; called once a tree is complete.
    mutating func pack() {
        packed = (0..<feature.count).map { node in
            // A leaf points to itself and sends every value (missing ones too) that way, so that a walk
            // of a fixed number of steps (``accumulateSideBySide``) stays at the leaf it reached.
            feature[node] < 0
                ? PackedNode(threshold: .infinity, feature: 0, left: Int32(node), right: Int32(node), missingLeft: true)
                : PackedNode(threshold: threshold[node], feature: feature[node], left: left[node], right: right[node], missingLeft: missingLeft[node])
        }
        var levels = [Int](repeating: 0, count: feature.count)
        // Children always come after their parent, so one pass in node order sees every parent first.
        for node in 0..<feature.count where feature[node] >= 0 {
            levels[Int(left[node])] = levels[node] + 1
            levels[Int(right[node])] = levels[node] + 1
        }
        depth = levels.max() ?? 0
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
    /// before it is evicted (measured: 512 rows made forests 1.9× slower, whole batches made
    /// boosting 2× slower). A batch of at most `sideBySideRows` rows is too small for that: its
    /// trees are walked side by side instead (``accumulateSideBySide``). Within a row, trees add in
    /// order, so results do not depend on the block size or the walk.
    static func accumulate(_ trees: [FlatTree], _ x: Matrix, into scores: inout [Double], stride: Int, scale: Double = 1,
                           sideBySideRows: Int = 0, offset: (Int) -> Int) {
        let blockRows = Swift.max(256, (2 << 20) / (8 * Swift.max(x.columns, 1)))
        x.storage.withUnsafeBufferPointer { inputs in
            scores.withUnsafeMutableBufferPointer { scores in
                // A side-by-side walk reads a leaf's (unused) input 0, which a row of no columns lacks.
                if x.rows <= sideBySideRows && x.columns > 0 {
                    accumulateSideBySide(trees, inputs, columns: x.columns, rows: 0..<x.rows, into: scores, stride: stride, scale: scale, offset: offset)
                    return
                }
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

    /// Trees walked side by side: ``accumulate(_:_:into:stride:scale:sideBySideRows:offset:)``'s
    /// walk for a few rows.
    static let lanes = 8

    /// Walks up to ``lanes`` trees at once for each row, each for the deepest one's number of steps
    /// (a leaf points to itself), so that their cache misses overlap instead of coming one after
    /// another: a batch of a few rows does not keep a large forest's nodes in cache.
    private static func accumulateSideBySide(_ trees: [FlatTree], _ inputs: UnsafeBufferPointer<Double>, columns: Int, rows: Range<Int>,
                                             into scores: UnsafeMutableBufferPointer<Double>, stride: Int, scale: Double,
                                             offset: (Int) -> Int) {
        withUnsafeTemporaryAllocation(of: TreeNodes.self, capacity: lanes) { group in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: lanes) { at in
                for first in Swift.stride(from: 0, to: trees.count, by: lanes) {
                    let members = first ..< Swift.min(first + lanes, trees.count)
                    let steps = trees[members].lazy.map(\.depth).max()!
                    withNodes(of: trees[members], in: group.baseAddress!) {
                        for row in rows {
                            let input = inputs.baseAddress! + row * columns
                            for lane in 0..<members.count { at[lane] = 0 }
                            for _ in 0..<steps {
                                for lane in 0..<members.count { at[lane] = group[lane].child(at[lane], input) }
                            }
                            for lane in 0..<members.count {
                                let nodes = group[lane], base = row * stride + offset(first + lane)
                                for k in 0..<nodes.outputs { scores[base + k] += scale * nodes.value[at[lane] * nodes.outputs + k] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body` with the nodes of each of `trees` in `views`, in order (a view is valid only
    /// inside its tree's ``withNodes(_:)``, so they nest).
    private static func withNodes(of trees: ArraySlice<FlatTree>, in views: UnsafeMutablePointer<TreeNodes>, _ body: () -> Void) {
        guard let tree = trees.first else { return body() }
        tree.withNodes { nodes in
            views.initialize(to: nodes)
            withNodes(of: trees.dropFirst(), in: views + 1, body)
        }
    }

    /// Calls `body` with unchecked views of the tree's packed nodes, values and covers, for the hot
    /// loops of prediction and explanation. The tree must be packed.
    func withNodes<Result>(_ body: (TreeNodes) throws -> Result) rethrows -> Result {
        precondition(packed.count == feature.count, "the tree was not packed")
        return try packed.withUnsafeBufferPointer { nodes in
            try value.withUnsafeBufferPointer { value in
                try cover.withUnsafeBufferPointer { cover in
                    try body(TreeNodes(nodes: nodes.baseAddress!, value: value.baseAddress!, cover: cover.baseAddress!, outputs: outputs))
                }
            }
        }
    }

    /// Adds each split's gain to its feature's entry of `importance`.
    func addGains(to importance: inout [Double]) {
        for node in 0..<nodeCount where feature[node] >= 0 { importance[Int(feature[node])] += gain[node] }
    }
}

/// The fields of one node that a walk reads.
struct PackedNode: Sendable, Equatable {
    var threshold: Double
    var feature: Int32
    var left: Int32
    var right: Int32
    var missingLeft: Bool
}

/// Unchecked views of a ``FlatTree``'s nodes, valid inside ``FlatTree/withNodes(_:)``.
struct TreeNodes {
    let nodes: UnsafePointer<PackedNode>
    let value: UnsafePointer<Double>
    let cover: UnsafePointer<Double>
    let outputs: Int

    /// A leaf points to itself (``FlatTree/pack()``).
    @inline(__always) func isLeaf(_ node: Int) -> Bool { Int(nodes[node].left) == node }
    @inline(__always) func feature(_ node: Int) -> Int { Int(nodes[node].feature) }
    @inline(__always) func left(_ node: Int) -> Int { Int(nodes[node].left) }
    @inline(__always) func right(_ node: Int) -> Int { Int(nodes[node].right) }

    /// The leaf one row of inputs reaches.
    @inline(__always)
    func leaf(_ row: UnsafePointer<Double>) -> Int {
        var node = 0
        while !isLeaf(node) { node = child(node, row) }
        return node
    }

    /// The child of inner node `node` that `row` goes to.
    @inline(__always)
    func child(_ node: Int, _ row: UnsafePointer<Double>) -> Int {
        let split = nodes[node]
        let x = row[Int(split.feature)]
        return Int(x <= split.threshold || (x.isNaN && split.missingLeft) ? split.left : split.right)
    }
}

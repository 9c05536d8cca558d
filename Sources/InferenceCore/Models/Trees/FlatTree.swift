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

    var nodeCount: Int { feature.count }

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

    /// Adds output 0 of the tree for every row of `x` to `scores[row * stride + offset]`.
    func add(_ x: Matrix, to scores: inout [Double], stride: Int, offset: Int) {
        x.storage.withUnsafeBufferPointer { values in
            for row in 0..<x.rows { scores[row * stride + offset] += value[leaf(values.baseAddress! + row * x.columns)] }
        }
    }

    /// Adds `scale` times every output of the tree for every row of `x` to `scores` (`outputs` per row).
    func addAll(_ x: Matrix, to scores: inout [Double], scale: Double) {
        x.storage.withUnsafeBufferPointer { values in
            for row in 0..<x.rows {
                let node = leaf(values.baseAddress! + row * x.columns)
                for k in 0..<outputs { scores[row * outputs + k] += scale * value[node * outputs + k] }
            }
        }
    }

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
        return Int(x <= threshold[node] || (x.isNaN && missingLeft[node]) ? left[node] : right[node])
    }

    /// Adds each split's gain to its feature's entry of `importance`.
    func addGains(to importance: inout [Double]) {
        for node in 0..<nodeCount where feature[node] >= 0 { importance[Int(feature[node])] += gain[node] }
    }
}

/// A regression tree in flat arrays, node 0 the root: a node is a leaf when `feature` is -1.
/// An input goes left when its value is at most `threshold`, or when it is missing and
/// `missingLeft` is set.
public struct FlatTree: Sendable, Codable, Equatable {
    public var feature: [Int32] = []
    public var threshold: [Double] = []
    public var missingLeft: [Bool] = []
    public var left: [Int32] = []
    public var right: [Int32] = []
    /// Leaf outputs (learning rate included); unused for inner nodes.
    public var value: [Double] = []

    enum CodingKeys: String, CodingKey {
        case feature, threshold, left, right, value
        case missingLeft = "missing_left"
    }

    mutating func addNode() -> Int {
        feature.append(-1)
        threshold.append(0)
        missingLeft.append(false)
        left.append(-1)
        right.append(-1)
        value.append(0)
        return feature.count - 1
    }

    /// Adds the tree's output for every row of `x` to `scores[row * stride + offset]`.
    func add(_ x: Matrix, to scores: inout [Double], stride: Int, offset: Int) {
        x.storage.withUnsafeBufferPointer { values in
            for row in 0..<x.rows { scores[row * stride + offset] += output(values.baseAddress! + row * x.columns) }
        }
    }

    /// The leaf output for one row of inputs.
    @inline(__always)
    func output(_ row: UnsafePointer<Double>) -> Double {
        var node = 0
        while feature[node] >= 0 {
            let x = row[Int(feature[node])]
            node = Int(x <= threshold[node] || (x.isNaN && missingLeft[node]) ? left[node] : right[node])
        }
        return value[node]
    }
}

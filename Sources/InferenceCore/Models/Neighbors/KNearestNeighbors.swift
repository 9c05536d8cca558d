/// k nearest neighbours on the standardised features, with uniform votes, as scikit-learn's
/// `KNeighborsRegressor` and `KNeighborsClassifier` (brute force, Euclidean distance).
public enum KNearestNeighbors {
    public static let algorithm = Algorithm(
        name: "knn", tasks: [.regression, .classification],
        parameters: [ParameterSpec("k", default: 5, range: 1...10_000, integer: true)],
        model: NeighborsModel.self
    ) { x, target, parameters, _ in
        try NeighborsModel(x, target, k: Int(parameters["k"]!))
    }
}

/// A fitted k-nearest-neighbours model: the training rows themselves.
public struct NeighborsModel: FittedModel, Equatable {
    public private(set) var k: Int
    /// The encoded training rows.
    public private(set) var points: Matrix
    /// Regression: the values; classification: the class indices.
    public private(set) var targets: [Double]
    /// 0 for regression, else the number of classes.
    public private(set) var classCount: Int
    /// Each training row's squared norm, worked out once rather than on every call (at one
    /// query row, they cost as much as the distances themselves). Not stored in the file.
    private(set) var pointNorms: [Double]

    enum CodingKeys: String, CodingKey {
        case k, points, targets
        case classCount = "class_count"
    }

    public var inputWidth: Int { points.columns }

    public func inconsistency(predictedColumns: Int) -> String? {
        guard points.rows >= 1, targets.count == points.rows, (1...points.rows) ~= k else {
            return "k == \(k) with \(points.rows) stored rows and \(targets.count) targets"
        }
        let classes = classCount == 0 ? 1 : classCount
        guard classes == predictedColumns,
              classCount == 0 || targets.allSatisfy({ $0.rounded() == $0 && $0 >= 0 && $0 < Double(classCount) }) else {
            return "targets that are not among its \(classCount) classes, or \(classes) outputs where \(predictedColumns) are needed"
        }
        return nil
    }

    /// Keeps the training rows; `k` may not exceed their number.
    public init(_ x: Matrix, _ target: Target, k: Int) throws {
        guard k <= x.rows else {
            throw TestbedError(.invalidParameter, "knn: k == \(k), must be <= the number of training rows (\(x.rows))")
        }
        self.k = k
        self.points = x
        self.targets = target.values
        self.classCount = target.task == .classification ? target.classes.count : 0
        self.pointNorms = Self.squaredNorms(of: x)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        k = try container.decode(Int.self, forKey: .k)
        points = try container.decode(Matrix.self, forKey: .points)
        targets = try container.decode([Double].self, forKey: .targets)
        classCount = try container.decode(Int.self, forKey: .classCount)
        // A matrix of no columns may claim any number of rows: one target each bounds them.
        guard targets.count == points.rows else {
            throw DecodingError.dataCorruptedError(forKey: .targets, in: container,
                debugDescription: "\(targets.count) targets for \(points.rows) stored rows")
        }
        pointNorms = Self.squaredNorms(of: points)
    }

    /// The squared norm of each row of `x`, summed left to right.
    private static func squaredNorms(of x: Matrix) -> [Double] {
        x.storage.withUnsafeBufferPointer { values in
            (0..<x.rows).map { row in
                var sum = 0.0
                for value in values[row * x.columns ..< (row + 1) * x.columns] { sum = sum + value * value }
                return sum
            }
        }
    }

    public func predict(_ x: Matrix) -> Matrix {
        var output = Matrix(rows: x.rows, columns: max(classCount, 1))
        forEachNeighbourhood(of: x) { row, neighbours in
            if classCount == 0 {
                output[row, 0] = neighbours.reduce(0) { $0 + targets[$1.index] } / Double(k)
            } else {
                for neighbour in neighbours { output[row, Int(targets[neighbour.index])] += 1 / Double(k) }
            }
        }
        return output
    }

    /// Calls `body` with each query row's `k` nearest training rows, nearest first (the lower
    /// index first on equal distance). Squared distances come from one GEMM per block of rows,
    /// `‖q‖² − 2·q·p + ‖p‖²`, as scikit-learn computes them.
    func forEachNeighbourhood(of x: Matrix, _ body: (Int, [(distance: Double, index: Int)]) -> Void) {
        let pointCount = points.rows
        // Blocks bound the distance matrix to about 8 MB whatever the number of training rows.
        let blockRows = max(1, min(x.rows, (1 << 20) / max(pointCount, 1)))
        var nearest: [(distance: Double, index: Int)] = []
        nearest.reserveCapacity(k + 1)
        var start = 0
        while start < x.rows {
            let count = min(blockRows, x.rows - start)
            let block = x.selectingRows(start..<(start + count))
            let queryNorms = Self.squaredNorms(of: block)
            let products = BLAS.product(block, points, transposeB: true)
            products.storage.withUnsafeBufferPointer { products in
                pointNorms.withUnsafeBufferPointer { pointNorms in
                    for row in 0..<count {
                        let queryNorm = queryNorms[row], base = row * pointCount
                        nearest.removeAll(keepingCapacity: true)
                        // The k-th distance once k rows are held. Until then every row is taken,
                        // even at an infinite distance (a query of 1e200 overflows every distance).
                        var kthDistance = Double.infinity
                        for index in 0..<pointCount {
                            let distance = max(queryNorm - 2 * products[base + index] + pointNorms[index], 0)
                            if nearest.count == k && distance >= kthDistance { continue }
                            // Insertion keeps the list sorted; equal distances keep the earlier index first.
                            var position = nearest.count
                            while position > 0 && nearest[position - 1].distance > distance { position -= 1 }
                            nearest.insert((distance, index), at: position)
                            if nearest.count > k { nearest.removeLast() }
                            if nearest.count == k { kthDistance = nearest[k - 1].distance }
                        }
                        body(start + row, nearest)
                    }
                }
            }
            start += count
        }
    }
}

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
    public var k: Int
    /// The encoded training rows.
    public var points: Matrix
    /// Regression: the values; classification: the class indices.
    public var targets: [Double]
    /// 0 for regression, else the number of classes.
    public var classCount: Int

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
        let pointNorms = (0..<points.rows).map { row in points.row(row).reduce(0) { $0 + $1 * $1 } }
        // Blocks bound the distance matrix to about 8 MB whatever the number of training rows.
        let blockRows = max(1, min(x.rows, (1 << 20) / max(points.rows, 1)))
        var start = 0
        while start < x.rows {
            let count = min(blockRows, x.rows - start)
            let block = x.selectingRows(start..<(start + count))
            let products = BLAS.product(block, points, transposeB: true)
            for row in 0..<count {
                let queryNorm = block.row(row).reduce(0) { $0 + $1 * $1 }
                var nearest: [(distance: Double, index: Int)] = []
                nearest.reserveCapacity(k + 1)
                for index in 0..<points.rows {
                    let distance = max(queryNorm - 2 * products[row, index] + pointNorms[index], 0)
                    if nearest.count == k && distance >= nearest[k - 1].distance { continue }
                    // Insertion keeps the list sorted; equal distances keep the earlier index first.
                    var position = nearest.count
                    while position > 0 && nearest[position - 1].distance > distance { position -= 1 }
                    nearest.insert((distance, index), at: position)
                    if nearest.count > k { nearest.removeLast() }
                }
                body(start + row, nearest)
            }
            start += count
        }
    }
}

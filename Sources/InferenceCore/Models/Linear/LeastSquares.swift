/// Ordinary least squares with an intercept; the minimum-norm solution when the design is
/// rank-deficient, as scikit-learn's `LinearRegression` (SVD with a relative cut-off of 1e-6).
public enum LinearRegression {
    public static let algorithm = Algorithm(
        name: "linear", tasks: [.regression], parameters: [], model: LinearModel.self
    ) { x, target, _, _ in
        try fit(x, target.values)
    }

    /// Centres, solves by SVD, sets the intercept.
    public static func fit(_ x: Matrix, _ y: [Double], rcond: Double = 1e-6) throws -> LinearModel {
        let (xMean, yMean) = (columnMeans(x), y.reduce(0, +) / Double(max(y.count, 1)))
        let (weights, _) = try BLAS.leastSquaresMinimumNorm(centred(x, xMean), y.map { $0 - yMean }, rcond: rcond)
        return LinearModel(link: .identity, coefficients: Matrix(rows: 1, columns: x.columns, storage: weights),
                           intercepts: [yMean - BLAS.dot(xMean, weights)], inputMeans: xMean)
    }
}

/// Least squares with an L2 penalty `alpha · ‖w‖²` on the coefficients (not the intercept),
/// solved through the normal equations by Cholesky, as scikit-learn's `Ridge(solver="cholesky")`.
public enum RidgeRegression {
    public static let algorithm = Algorithm(
        name: "ridge", tasks: [.regression],
        parameters: [ParameterSpec("alpha", default: 1.0, range: 0...Double.infinity)],
        model: LinearModel.self
    ) { x, target, parameters, _ in
        try fit(x, target.values, alpha: parameters["alpha"]!)
    }

    /// The normal equations of the centred data, `(Xcᵀ·Xc + alpha·I)·w = Xcᵀ·yc`, by Cholesky.
    public static func fit(_ x: Matrix, _ y: [Double], alpha: Double) throws -> LinearModel {
        let d = x.columns
        let (centredGram, xty, xMean, yMean) = centredGram(x, y)
        var gram = centredGram
        for i in 0..<d { gram[i, i] += alpha }
        let weights: [Double]
        do {
            weights = try BLAS.solvePositiveDefinite(gram, Matrix(rows: d, columns: 1, storage: xty)).storage
        } catch where alpha > 0 {
            // Nearly collinear columns with a tiny penalty defeat Cholesky in floating point; the
            // decomposition of the inputs themselves gives the same solution without squaring them.
            return try RidgePath(x, y).model(alpha: alpha)
        } catch {
            throw TestbedError(.numericalFailure, "ridge with alpha == \(formatNumber(alpha)) has no unique solution (collinear columns); use alpha > 0, or the 'linear' algorithm")
        }
        return LinearModel(link: .identity, coefficients: Matrix(rows: 1, columns: d, storage: weights),
                           intercepts: [yMean - BLAS.dot(xMean, weights)], inputMeans: xMean)
    }
}

/// Column means through one GEMV with a vector of ones.
func columnMeans(_ x: Matrix) -> [Double] {
    var sums = [Double](repeating: 0, count: x.columns)
    BLAS.gemv(x, transpose: true, [Double](repeating: 1, count: x.rows), into: &sums)
    return sums.map { $0 / Double(max(x.rows, 1)) }
}

/// `Xcᵀ·Xc` (both triangles filled) and `Xcᵀ·yc` of the centred inputs and target, with their
/// means. Rows are centred a block at a time, so that the Gram matrix costs one `dsyrk` pass over
/// the data and no centred copy of it.
func centredGram(_ x: Matrix, _ y: [Double]) -> (gram: Matrix, xty: [Double], xMean: [Double], yMean: Double) {
    let d = x.columns
    let xMean = columnMeans(x)
    let yMean = y.reduce(0, +) / Double(max(y.count, 1))
    var gram = Matrix(rows: d, columns: d)
    var xty = [Double](repeating: 0, count: d)
    let blockRows = max(1, min(x.rows, (1 << 18) / max(d, 1)))
    var block = Matrix(rows: blockRows, columns: d)
    var blockTarget = [Double](repeating: 0, count: blockRows)
    var start = 0
    while start < x.rows {
        let count = min(blockRows, x.rows - start)
        if count < block.rows {
            block = Matrix(rows: count, columns: d)
            blockTarget = [Double](repeating: 0, count: count)
        }
        x.storage.withUnsafeBufferPointer { source in
            block.storage.withUnsafeMutableBufferPointer { destination in
                xMean.withUnsafeBufferPointer { mean in
                    for row in 0..<count {
                        let from = source.baseAddress! + (start + row) * d, to = destination.baseAddress! + row * d
                        for column in 0..<d { to[column] = from[column] - mean[column] }
                        blockTarget[row] = y[start + row] - yMean
                    }
                }
            }
        }
        BLAS.addGramUpper(of: block, into: &gram)
        BLAS.gemv(block, transpose: true, blockTarget, beta: 1, into: &xty)
        start += count
    }
    for i in 0..<d {
        for j in 0..<i { gram[i, j] = gram[j, i] }
    }
    return (gram, xty, xMean, yMean)
}

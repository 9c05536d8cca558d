import Foundation

/// Ridge regression for many penalties from one decomposition of the centred inputs, as
/// scikit-learn's `Ridge(solver="svd")` does for one: with `Xc = U·diag(s)·Vᵀ`, the coefficients
/// for a penalty `alpha` are `V·diag(s / (s² + alpha))·Uᵀ·yc`, a few vector products each once the
/// decomposition is known.
///
/// With more rows than columns, the decomposition comes from the eigendecomposition of the Gram
/// matrix `Xcᵀ·Xc = V·diag(s²)·Vᵀ` (so the path costs about one ridge fit: the Gram pass over the
/// data dominates), with `Uᵀ·yc = diag(1/s)·Vᵀ·Xcᵀ·yc`. Squaring the inputs squares their
/// condition number, so when the smallest eigenvalue is below ``gramConditionLimit`` of the
/// largest (columns close to collinear), the singular values come from the inputs themselves
/// instead: their QR factor `R`, then the small SVD of `R`, which costs a few times more.
///
/// A penalty of 0 is ordinary least squares, the minimum-norm solution with singular values
/// below `rcond · s_max` counted as zero, as ``LinearRegression`` (and scikit-learn's
/// `LinearRegression`) computes it.
public struct RidgePath: Sendable {
    /// The penalties `auto` tries: none (least squares) and half-decades from 10⁻³ to 10⁵. The
    /// inputs are standardised, so a squared singular value is about the row count times a
    /// share of the variance: 10⁵ shrinks nearly everything on tables up to ~10⁴ rows.
    public static let searchAlphas: [Double] = [0] + stride(from: -3.0, through: 5.0, by: 0.5).map { exponent in
        // Three significant digits, for a leaderboard a person can read (0.00316, 31600).
        let digits = 2 - exponent.rounded(.down)
        return digits >= 0 ? (pow(10, exponent + digits)).rounded() / pow(10, digits) : (pow(10, exponent + digits)).rounded() * pow(10, -digits)
    }

    public let inputMeans: [Double]
    public let targetMean: Double
    /// Largest first.
    public let singularValues: [Double]
    /// `k × d`: the right singular vectors as rows.
    let vt: Matrix
    /// `Uᵀ·yc`, one value per singular value.
    let projectedTarget: [Double]
    /// Singular values at most this count as zero for the unpenalised fit.
    let cutoff: Double
    /// Where the singular values came from.
    let decomposition: Decomposition

    /// What was decomposed.
    enum Decomposition { case gram, inputs }

    /// The smallest ratio of the Gram matrix's smallest eigenvalue to its largest for which the
    /// eigendecomposition is used: a condition number of the inputs up to 10³, where squaring it
    /// still leaves the coefficients accurate to about 10⁻¹⁰ (relative).
    static let gramConditionLimit = 1e-6

    /// Centres `x` and `y` and decomposes the centred inputs.
    public init(_ x: Matrix, _ y: [Double], rcond: Double = 1e-6) throws {
        precondition(x.rows == y.count, "ridge path: \(x.rows) rows and \(y.count) targets")
        if x.rows >= x.columns, x.columns > 0 {
            let (gram, xty, means, mean) = centredGram(x, y)
            let (eigenvalues, eigenvectors) = try BLAS.symmetricEigen(gram)
            if let smallest = eigenvalues.first, let largest = eigenvalues.last, largest > 0, smallest > Self.gramConditionLimit * largest {
                // Largest first, as the SVD gives them.
                let order = Array(eigenvalues.indices.reversed())
                var vt = Matrix(rows: order.count, columns: x.columns)
                for (row, index) in order.enumerated() {
                    vt.storage.replaceSubrange(row * x.columns ..< (row + 1) * x.columns, with: eigenvectors.row(index))
                }
                var vty = [Double](repeating: 0, count: order.count)
                BLAS.gemv(vt, transpose: false, xty, into: &vty)
                let singular = order.map { eigenvalues[$0].squareRoot() }
                self.init(inputMeans: means, targetMean: mean, singularValues: singular, vt: vt,
                          projectedTarget: zip(vty, singular).map { $0 / $1 }, rcond: rcond, decomposition: .gram)
                return
            }
        }
        try self.init(exactly: x, y, rcond: rcond)
    }

    private init(inputMeans: [Double], targetMean: Double, singularValues: [Double], vt: Matrix, projectedTarget: [Double], rcond: Double,
                 decomposition: Decomposition) {
        self.decomposition = decomposition
        self.inputMeans = inputMeans
        self.targetMean = targetMean
        self.singularValues = singularValues
        self.vt = vt
        self.projectedTarget = projectedTarget
        cutoff = rcond * (singularValues.first ?? 0)
    }

    /// The singular values from the centred inputs themselves (through their QR factor when tall).
    init(exactly x: Matrix, _ y: [Double], rcond: Double = 1e-6) throws {
        decomposition = .inputs
        let means = columnMeans(x), mean = y.reduce(0, +) / Double(max(y.count, 1))
        inputMeans = means
        targetMean = mean
        let yc = y.map { $0 - mean }
        let (u, singular, vt): (Matrix, [Double], Matrix)
        var projected: [Double]
        if x.rows >= x.columns {
            // Tall: QR first, without forming Q, then the small SVD of R (= U_R·S·Vᵀ), so that
            // Uᵀ·yc = U_Rᵀ·(Qᵀ·yc) and the n × d matrix U is never made.
            let (r, qty) = try BLAS.qrReduce(centred(x, means), yc)
            (u, singular, vt) = try BLAS.singularValueDecomposition(r)
            projected = [Double](repeating: 0, count: singular.count)
            BLAS.gemv(u, transpose: true, qty, into: &projected)
        } else {
            (u, singular, vt) = try BLAS.singularValueDecomposition(centred(x, means))
            projected = [Double](repeating: 0, count: singular.count)
            BLAS.gemv(u, transpose: true, yc, into: &projected)
        }
        singularValues = singular
        self.vt = vt
        projectedTarget = projected
        cutoff = rcond * (singular.first ?? 0)
    }

    /// The coefficients for penalty `alpha` (0: minimum-norm least squares).
    public func coefficients(alpha: Double) -> [Double] {
        precondition(alpha >= 0, "ridge path: alpha == \(alpha), must be >= 0")
        let scaled = singularValues.indices.map { index -> Double in
            let s = singularValues[index]
            if alpha == 0 { return s > cutoff ? projectedTarget[index] / s : 0 }
            return s / (s * s + alpha) * projectedTarget[index]
        }
        var weights = [Double](repeating: 0, count: vt.columns)
        BLAS.gemv(vt, transpose: true, scaled, into: &weights)
        return weights
    }

    /// The fitted model for penalty `alpha`: the same as ``RidgeRegression`` (or, for 0,
    /// ``LinearRegression``) fitted on the same rows, to rounding.
    public func model(alpha: Double) -> LinearModel {
        let weights = coefficients(alpha: alpha)
        return LinearModel(link: .identity, coefficients: Matrix(rows: 1, columns: weights.count, storage: weights),
                           intercepts: [targetMean - BLAS.dot(inputMeans, weights)], inputMeans: inputMeans)
    }

    /// The predictions for the rows of `x` under each penalty: one column per entry of `alphas`.
    public func predictions(_ x: Matrix, alphas: [Double]) -> Matrix {
        var weights = Matrix(rows: alphas.count, columns: vt.columns)
        var intercepts = [Double](repeating: 0, count: alphas.count)
        for (index, alpha) in alphas.enumerated() {
            let row = coefficients(alpha: alpha)
            weights.storage.replaceSubrange(index * vt.columns ..< (index + 1) * vt.columns, with: row)
            intercepts[index] = targetMean - BLAS.dot(inputMeans, row)
        }
        return LinearModel(link: .identity, coefficients: weights, intercepts: intercepts).decisionFunction(x)
    }
}

/// `x` with `means` subtracted from each column.
func centred(_ x: Matrix, _ means: [Double]) -> Matrix {
    var result = x
    result.storage.withUnsafeMutableBufferPointer { buffer in
        for row in 0..<x.rows {
            for column in 0..<x.columns { buffer[row * x.columns + column] -= means[column] }
        }
    }
    return result
}

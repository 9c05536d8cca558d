import Foundation

/// A fitted linear model: `z = W·x + b`, followed by a link.
///
/// One type serves least squares, ridge and logistic regression: they differ in how the
/// weights are found, not in how they predict.
public struct LinearModel: FittedModel, Equatable {
    public enum Link: String, Sendable, Codable {
        /// Regression: the prediction is `z`.
        case identity
        /// Binary classification: one output, `P(class 1) = σ(z)`.
        case logistic
        /// Multiclass classification: one output per class, probabilities by softmax.
        case softmax
    }

    public var link: Link
    /// One row of weights per output.
    public var coefficients: Matrix
    /// One intercept per output.
    public var intercepts: [Double]
    /// The mean of each input over the training rows: contributions are measured from it.
    public var inputMeans: [Double]

    enum CodingKeys: String, CodingKey {
        case link, coefficients, intercepts
        case inputMeans = "input_means"
    }

    public var inputWidth: Int { coefficients.columns }

    /// - Parameter inputMeans: the training means of the inputs (zeros when `nil`).
    public init(link: Link, coefficients: Matrix, intercepts: [Double], inputMeans: [Double]? = nil) {
        precondition(coefficients.rows == intercepts.count, "one intercept per output")
        self.link = link
        self.coefficients = coefficients
        self.intercepts = intercepts
        self.inputMeans = inputMeans ?? [Double](repeating: 0, count: coefficients.columns)
    }

    /// The linear scores `X·Wᵀ + b`, one column per output.
    public func decisionFunction(_ x: Matrix) -> Matrix {
        var scores: Matrix
        if coefficients.rows == 1 {
            scores = Matrix(rows: x.rows, columns: 1, storage: BLAS.affine(x, coefficients.storage, bias: intercepts[0]))
        } else {
            scores = Matrix(rows: x.rows, columns: coefficients.rows)
            for row in 0..<x.rows {
                for output in 0..<coefficients.rows { scores.storage[row * coefficients.rows + output] = intercepts[output] }
            }
            BLAS.gemm(x, coefficients, transposeB: true, beta: 1, into: &scores)
        }
        return scores
    }

    public func inconsistency(predictedColumns: Int) -> String? {
        let rows = coefficients.rows
        let expected = switch link { case .identity: 1; case .logistic: 2; case .softmax: rows }
        guard rows >= 1, expected == predictedColumns, link != .logistic || rows == 1 else {
            return "a \(link.rawValue) model with \(rows) rows of weights cannot make \(predictedColumns) outputs"
        }
        guard intercepts.count == rows, inputMeans.count == coefficients.columns else {
            return "\(intercepts.count) intercepts and \(inputMeans.count) input means for \(rows) × \(coefficients.columns) weights"
        }
        return nil
    }

    public func predict(_ x: Matrix) -> Matrix {
        let scores = decisionFunction(x)
        switch link {
        case .identity:
            return scores
        case .logistic:
            var probabilities = Matrix(rows: x.rows, columns: 2)
            for row in 0..<x.rows {
                let positive = Sigmoid.value(scores.storage[row])
                probabilities.storage[2 * row] = 1 - positive
                probabilities.storage[2 * row + 1] = positive
            }
            return probabilities
        case .softmax:
            var probabilities = scores
            probabilities.storage.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<x.rows {
                    Softmax.normalize(UnsafeMutableBufferPointer(rebasing: buffer[row * scores.columns ..< (row + 1) * scores.columns]))
                }
            }
            return probabilities
        }
    }
}

/// The numerically stable logistic function and its companions.
enum Sigmoid {
    /// `1 / (1 + e^−z)` for `z ≥ 0` and `e^z / (1 + e^z)` below, bit for bit (a NaN's sign aside), from one exponential
    /// and with the numerator chosen by a select: a branch on the sign of scores centred on 0
    /// mispredicts on about every other row.
    @inline(__always) static func value(_ z: Double) -> Double {
        let e = exp(-abs(z))
        return (z >= 0 ? 1 : e) / (1 + e)
    }

    /// ``value(_:)`` and the softplus `log(1 + e^z)` (`z + log1p(e^−z)` above 0, `log1p(e^z)` at
    /// and below, without overflow) from one exponential, with selects as in ``value(_:)``.
    @inline(__always) static func valueAndSoftplus(_ z: Double) -> (value: Double, softplus: Double) {
        let e = exp(-abs(z))
        return ((z >= 0 ? 1 : e) / (1 + e), (z > 0 ? z : 0) + log1p(e))
    }
}

enum Softmax {
    /// Turns scores into probabilities in place; returns `log Σ exp(score)`.
    @discardableResult @inline(__always)
    static func normalize(_ scores: UnsafeMutableBufferPointer<Double>) -> Double {
        let maximum = scores.max() ?? 0
        var sum = 0.0
        for index in scores.indices {
            scores[index] = exp(scores[index] - maximum)
            sum += scores[index]
        }
        for index in scores.indices { scores[index] /= sum }
        return maximum + log(sum)
    }
}

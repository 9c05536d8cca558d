import Foundation

/// L2-penalised logistic regression in scikit-learn's convention: it minimises
/// `C · Σ log-loss + ½‖W‖²` with an unpenalised intercept. Binary targets use one weight
/// vector and the logistic link; more classes the multinomial (softmax) model.
public enum LogisticRegression {
    public static let algorithm = Algorithm(
        name: "logistic", tasks: [.classification],
        parameters: [ParameterSpec("C", default: 1.0, range: 0...Double.infinity, lowerBoundExcluded: true)],
        model: LinearModel.self
    ) { x, target, parameters, _ in
        try fit(x, classes: target.classIndices, classCount: target.classes.count, C: parameters["C"]!)
    }

    /// Where a fit stops: the largest gradient component of the per-row objective at most 1e-4,
    /// scikit-learn's default `tol` on the same objective (its lbfgs stops there), then one last
    /// Newton step with the Hessian the last pass formed, which costs no pass over the data and,
    /// that close, lands on the optimum to about the square of the gradient. Models whose steps
    /// are solved by CG (more than two classes, 128 columns or more) would need passes over the
    /// data for that step, and without it moved held-out log loss by up to 1.4e-3 (Vehicle,
    /// C = 1000): they are solved to ``exactTolerance`` whatever is asked.
    public static let defaultTolerance = 1e-4
    /// The tolerance of the exact solution (to rounding) that the scikit-learn fixtures check.
    public static let exactTolerance = 1e-10

    /// The values of `C` that `auto` tries: decades from 10⁻³ (nearly the class shares) to 10³
    /// (nearly unpenalised), as the fixtures check.
    public static let searchCs: [Double] = [1e-3, 1e-2, 0.1, 1, 10, 100, 1e3]

    /// Fits by Newton's method to `tolerance` on the largest gradient component of the per-row
    /// objective: the binary model of fewer than ``LogisticObjective/formedHessianColumns``
    /// columns solves each step with its Hessian formed, the others by conjugate gradients
    /// (Newton-CG).
    public static func fit(_ x: Matrix, classes: [Int], classCount: Int, C: Double, tolerance: Double = defaultTolerance) throws -> LinearModel {
        try fit(x, classes: classes, classCount: classCount, C: C, from: nil, tolerance: tolerance).model
    }

    /// The models for every `C` of `Cs`, in that order, each Newton-CG run starting from the
    /// solution for the next smaller `C` (a warm start): along an increasing path each solution is
    /// close to the one before, so the whole path costs a few single fits rather than one per `C`.
    public static func path(_ x: Matrix, classes: [Int], classCount: Int, Cs: [Double], tolerance: Double = defaultTolerance) throws -> [LinearModel] {
        var models = [LinearModel?](repeating: nil, count: Cs.count)
        var start: [Double]?
        for index in Cs.indices.sorted(by: { Cs[$0] < Cs[$1] }) {
            let (model, solution, _) = try fit(x, classes: classes, classCount: classCount, C: Cs[index], from: start, tolerance: tolerance)
            models[index] = model
            start = solution
        }
        return models.map { $0! }
    }

    /// One fit from `start` (zeros when `nil`), also returning the raw solution for warm starts.
    /// - Parameter formsHessian: `false` solves every Newton step by CG (the tests compare the two).
    static func fit(_ x: Matrix, classes: [Int], classCount: Int, C: Double, from start: [Double]?, tolerance: Double,
                    formsHessian: Bool = true) throws -> (model: LinearModel, solution: [Double], steps: Int) {
        guard classCount >= 2 else {
            throw TestbedError(.unsuitableData, "logistic regression needs at least two classes, found \(classCount)")
        }
        let objective = LogisticObjective(x: x, classes: classes, outputs: classCount == 2 ? 1 : classCount, C: C, formsHessian: formsHessian)
        var solver = NewtonCG(gradientTolerance: objective.formsHessianSteps ? tolerance : min(tolerance, exactTolerance))
        solver.finishesWithFormedStep = objective.formsHessianSteps && tolerance > exactTolerance
        let (solution, steps) = solver.minimize(from: start ?? objective.classShareStart, objective.evaluate, value: objective.value)
        var (weights, intercepts) = objective.split(solution)
        if objective.outputs > 1 {
            // Softmax intercepts are defined up to a common shift; centre them for a unique answer.
            let mean = intercepts.reduce(0, +) / Double(intercepts.count)
            intercepts = intercepts.map { $0 - mean }
        }
        guard weights.storage.allSatisfy(\.isFinite), intercepts.allSatisfy(\.isFinite) else {
            throw TestbedError(.numericalFailure, "logistic regression did not converge to finite weights; check the inputs for extreme values")
        }
        return (LinearModel(link: objective.outputs == 1 ? .logistic : .softmax, coefficients: weights, intercepts: intercepts,
                            inputMeans: columnMeans(x)), solution, steps)
    }
}

/// The mean log-loss plus `‖W‖² / (2·C·n)`, its gradient and Hessian-vector products, all
/// through GEMM. Parameters are laid out as the weight rows followed by the intercepts.
struct LogisticObjective {
    let x: Matrix
    let classes: [Int]
    /// 1 for the binary (logistic) model, the class count for softmax.
    let outputs: Int
    let penalty: Double
    /// Whether a binary model's Newton steps may be solved with its Hessian formed.
    let formsHessian: Bool

    init(x: Matrix, classes: [Int], outputs: Int, C: Double, formsHessian: Bool = true) {
        self.x = x
        self.classes = classes
        self.outputs = outputs
        self.penalty = 1 / (C * Double(x.rows))
        self.formsHessian = formsHessian
    }

    /// Where a fit without a warm start begins: zero weights and the intercepts of the class
    /// shares (log-odds, or centred log-shares), the optimum of the intercepts alone, which
    /// saves the first Newton step or so from zeros. An absent class counts as half a row.
    var classShareStart: [Double] {
        var point = [Double](repeating: 0, count: outputs * (x.columns + 1))
        var counts = [Double](repeating: 0, count: max(outputs, 2))
        for label in classes where counts.indices.contains(label) { counts[label] += 1 }
        let logShares = counts.map { log(max($0, 0.5)) }
        if outputs == 1 {
            point[x.columns] = logShares[1] - logShares[0]
        } else {
            let mean = logShares.reduce(0, +) / Double(outputs)
            for k in 0..<outputs { point[outputs * x.columns + k] = logShares[k] - mean }
        }
        return point
    }

    func split(_ parameters: [Double]) -> (weights: Matrix, intercepts: [Double]) {
        let count = outputs * x.columns
        return (Matrix(rows: outputs, columns: x.columns, storage: Array(parameters[..<count])), Array(parameters[count...]))
    }

    /// `X·Wᵀ + b` for the weights and intercepts in `parameters`.
    private func scores(_ parameters: [Double]) -> Matrix {
        let (weights, intercepts) = split(parameters)
        return LinearModel(link: .identity, coefficients: weights, intercepts: intercepts).decisionFunction(x)
    }

    /// Turns scores into probabilities in place and returns the summed log-loss.
    private func probabilities(_ scores: inout Matrix) -> Double {
        var loss = 0.0
        scores.storage.withUnsafeMutableBufferPointer { buffer in
            for row in 0..<x.rows {
                if outputs == 1 {
                    let z = buffer[row]
                    let (q, softplus) = Sigmoid.valueAndSoftplus(z)
                    loss += softplus - (classes[row] == 1 ? z : 0)
                    buffer[row] = q
                } else {
                    let rowScores = UnsafeMutableBufferPointer(rebasing: buffer[row * outputs ..< (row + 1) * outputs])
                    let trueScore = rowScores[classes[row]]
                    loss += Softmax.normalize(rowScores) - trueScore
                }
            }
        }
        return loss
    }

    private func penaltyTerm(_ parameters: [Double]) -> Double {
        parameters[..<(outputs * x.columns)].reduce(0) { $0 + $1 * $1 } * penalty / 2
    }

    func value(_ parameters: [Double]) -> Double {
        var p = scores(parameters)
        return probabilities(&p) / Double(x.rows) + penaltyTerm(parameters)
    }

    /// Whether Newton steps are solved with the Hessian formed (the binary model below
    /// ``formedHessianColumns`` columns), or by CG on Hessian-vector products.
    var formsHessianSteps: Bool { formsHessian && outputs == 1 && x.columns < Self.formedHessianColumns }

    func evaluate(_ parameters: [Double]) -> NewtonCG.Evaluation {
        if formsHessianSteps {
            let (value, gradient, hessian) = binaryPass(parameters)
            return NewtonCG.Evaluation(value: value, gradient: gradient) { vector in
                var product = [Double](repeating: 0, count: vector.count)
                BLAS.gemv(hessian, vector, into: &product)
                return product
            } solve: { [penalty] rightHandSide in
                // Unpenalised (C = ∞), the Hessian may be singular and still factor on rounding
                // noise into an enormous step; there, and for any step that is not finite or not
                // downhill, CG on the same Hessian decides, as before.
                guard penalty > 0,
                      let step = try? BLAS.solvePositiveDefinite(hessian, Matrix(rows: rightHandSide.count, columns: 1, storage: rightHandSide)).storage,
                      step.allSatisfy(\.isFinite), zip(step, rightHandSide).reduce(0, { $0 + $1.0 * $1.1 }) > 0
                else { return nil }
                return step
            }
        }
        let n = Double(x.rows)
        var p = scores(parameters)
        let loss = probabilities(&p)
        var residual = p
        for row in 0..<x.rows {
            if outputs == 1 { residual.storage[row] -= classes[row] == 1 ? 1 : 0 } else { residual.storage[row * outputs + classes[row]] -= 1 }
        }
        let gradient = backProject(residual, parameters: parameters, scale: 1 / n)
        let probabilities = p
        return NewtonCG.Evaluation(value: loss / n + penaltyTerm(parameters), gradient: gradient) { vector in
            var u = scores(vector)
            // The Hessian of the log-loss acts on the scores as diag(p) − p·pᵀ per row.
            for row in 0..<x.rows {
                if outputs == 1 {
                    let q = probabilities.storage[row]
                    u.storage[row] *= q * (1 - q)
                } else {
                    let base = row * outputs
                    var mean = 0.0
                    for k in 0..<outputs { mean += probabilities.storage[base + k] * u.storage[base + k] }
                    for k in 0..<outputs { u.storage[base + k] = probabilities.storage[base + k] * (u.storage[base + k] - mean) }
                }
            }
            return backProject(u, parameters: vector, scale: 1 / n)
        }
    }

    /// Below this many columns the binary model's Newton step is solved with its Hessian formed:
    /// one SYRK pass over `X` costs less than the two passes of every CG step it replaces (CG
    /// takes up to one step per parameter, the formed Hessian n·(p+1)² multiply-adds at GEMM speed).
    static let formedHessianColumns = 128

    /// The binary model's value, gradient and Hessian in one pass over `X`, in blocks of rows
    /// that stay in cache while each is used three times: for the scores `[X 1]·θ`, the loss, the
    /// gradient `(1/n)·[X 1]ᵀ·(q − y)` and the Hessian `(1/n)·[X 1]ᵀ·D·[X 1]` with
    /// `D = diag(q(1−q))` (SYRK on the rows scaled by `√(q(1−q))`), each plus its penalty term.
    /// On a million rows `X` is far larger than any cache, so reading it once per Newton step
    /// rather than three or four times is most of the step's cost. The parameter layout is the
    /// weights, then the intercept.
    private func binaryPass(_ parameters: [Double]) -> (value: Double, gradient: [Double], hessian: Matrix) {
        let width = x.columns + 1, blockRows = 2048
        var loss = 0.0
        var gradient = [Double](repeating: 0, count: width)
        var hessian = Matrix(rows: width, columns: width)
        var block = Matrix(rows: min(blockRows, x.rows), columns: width)
        var values = [Double](repeating: 0, count: block.rows)
        let columns = x.columns
        x.storage.withUnsafeBufferPointer { xs in
            for start in stride(from: 0, to: x.rows, by: blockRows) {
                let count = min(blockRows, x.rows - start)
                if count != block.rows {
                    block = Matrix(rows: count, columns: width)
                    values = [Double](repeating: 0, count: count)
                }
                let rows = xs.baseAddress! + start * columns
                values.withUnsafeMutableBufferPointer { values in
                    // Scores, then each row's loss, residual q − y, and √(q(1−q)) for its scaled copy.
                    parameters.withUnsafeBufferPointer { BLAS.affine(rows: count, columns: columns, rows, $0.baseAddress!, bias: $0[columns], into: values.baseAddress!) }
                    block.storage.withUnsafeMutableBufferPointer { scaled in
                        for row in 0..<count {
                            let score = values[row]
                            let (q, softplus) = Sigmoid.valueAndSoftplus(score)
                            let positive = classes[start + row] == 1
                            loss += softplus - (positive ? score : 0)
                            values[row] = q - (positive ? 1 : 0)
                            gradient[columns] += values[row]
                            let root = (q * (1 - q)).squareRoot()
                            let source = rows + row * columns, target = scaled.baseAddress! + row * width
                            for column in 0..<columns { target[column] = root * source[column] }
                            target[columns] = root
                        }
                    }
                    gradient.withUnsafeMutableBufferPointer {
                        BLAS.gemv(rows: count, columns: columns, rows, transpose: true, values.baseAddress!, beta: 1, into: $0.baseAddress!)
                    }
                }
                BLAS.addGramUpper(of: block, into: &hessian)
            }
        }
        let n = Double(x.rows)
        for i in 0..<width {
            gradient[i] = gradient[i] / n + (i < x.columns ? penalty * parameters[i] : 0)
            for j in i..<width {
                let value = hessian[i, j] / n + (i == j && i < x.columns ? penalty : 0)
                hessian[i, j] = value
                hessian[j, i] = value
            }
        }
        return (loss / n + penaltyTerm(parameters), gradient, hessian)
    }

    /// `[scale · Rᵀ·X + penalty · W, scale · Σ_rows R]` for per-row, per-output values `R`.
    private func backProject(_ r: Matrix, parameters: [Double], scale: Double) -> [Double] {
        var weights = Matrix(rows: outputs, columns: x.columns, storage: Array(parameters[..<(outputs * x.columns)]))
        BLAS.gemm(r, transposeA: true, x, alpha: scale, beta: penalty, into: &weights)
        var intercepts = [Double](repeating: 0, count: outputs)
        for row in 0..<x.rows {
            for k in 0..<outputs { intercepts[k] += r.storage[row * outputs + k] }
        }
        return weights.storage + intercepts.map { $0 * scale }
    }
}

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

    /// The values of `C` that `auto` tries: decades from 10⁻³ (nearly the class shares) to 10³
    /// (nearly unpenalised), as the fixtures check.
    public static let searchCs: [Double] = [1e-3, 1e-2, 0.1, 1, 10, 100, 1e3]

    /// Fits by Newton-CG to a gradient tolerance of 1e-10 on the per-row objective.
    public static func fit(_ x: Matrix, classes: [Int], classCount: Int, C: Double) throws -> LinearModel {
        try fit(x, classes: classes, classCount: classCount, C: C, from: nil).model
    }

    /// The models for every `C` of `Cs`, in that order, each Newton-CG run starting from the
    /// solution for the next smaller `C` (a warm start): along an increasing path each solution is
    /// close to the one before, so the whole path costs a few single fits rather than one per `C`.
    public static func path(_ x: Matrix, classes: [Int], classCount: Int, Cs: [Double]) throws -> [LinearModel] {
        var models = [LinearModel?](repeating: nil, count: Cs.count)
        var start: [Double]?
        for index in Cs.indices.sorted(by: { Cs[$0] < Cs[$1] }) {
            let (model, solution) = try fit(x, classes: classes, classCount: classCount, C: Cs[index], from: start)
            models[index] = model
            start = solution
        }
        return models.map { $0! }
    }

    /// One fit from `start` (zeros when `nil`), also returning the raw solution for warm starts.
    static func fit(_ x: Matrix, classes: [Int], classCount: Int, C: Double, from start: [Double]?) throws -> (model: LinearModel, solution: [Double]) {
        guard classCount >= 2 else {
            throw TestbedError(.unsuitableData, "logistic regression needs at least two classes, found \(classCount)")
        }
        let objective = LogisticObjective(x: x, classes: classes, outputs: classCount == 2 ? 1 : classCount, C: C)
        let zeros = [Double](repeating: 0, count: objective.outputs * (x.columns + 1))
        let (solution, _) = NewtonCG().minimize(from: start ?? zeros, objective.evaluate, value: objective.value)
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
                            inputMeans: columnMeans(x)), solution)
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

    init(x: Matrix, classes: [Int], outputs: Int, C: Double) {
        self.x = x
        self.classes = classes
        self.outputs = outputs
        self.penalty = 1 / (C * Double(x.rows))
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
                    loss += Sigmoid.softplus(z) - (classes[row] == 1 ? z : 0)
                    buffer[row] = Sigmoid.value(z)
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

    func evaluate(_ parameters: [Double]) -> NewtonCG.Evaluation {
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

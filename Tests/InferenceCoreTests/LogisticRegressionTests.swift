import Foundation
import Testing
@testable import InferenceCore

@Suite("Logistic regression")
struct LogisticRegressionTests {
    /// On a million rows the objective's value is a sum whose rounding exceeds the
    /// decrease of the last Newton steps; the solver must still reach its gradient tolerance
    /// rather than stall in a line search that cannot measure progress.
    @Test("Reaches a gradient of 1e-10 on a million rows")
    func convergesOnManyRows() throws {
        let rows = 1_000_000, columns = 20
        var state: UInt64 = 11
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        let x = Matrix(rows: rows, columns: columns, storage: (0..<rows * columns).map { _ in uniform() })
        let classes = (0..<rows).map { row in sin(3 * x[row, 0]) + x[row, 1] * x[row, 2] + (x[row, 3] > 0 ? 0.5 : -0.5) + 0.3 * x[row, 4] - 0.2 + 0.1 * uniform() > 0 ? 1 : 0 }
        let model = try LogisticRegression.fit(x, classes: classes, classCount: 2, C: 1)
        let objective = LogisticObjective(x: x, classes: classes, outputs: 1, C: 1)
        let gradient = objective.evaluate(model.coefficients.storage + model.intercepts).gradient
        let largest = gradient.map(abs).max() ?? .infinity
        #expect(largest <= 1e-10, "largest gradient component \(largest)")
    }

    /// The binary model's Newton steps solved with its Hessian formed (the default below 128
    /// columns) reach the same optimum as conjugate gradients (to the fixtures' 1e-8 in probability),
    /// at every C the search tries, on two real tables.
    @Test("The formed Hessian and Newton-CG agree", arguments: [("Ionosphere.csv", "Class"), ("PimaIndiansDiabetes2.csv", "diabetes")])
    func formedHessianAgreesWithConjugateGradients(dataset: String, target: String) throws {
        let design = try TestData.design(dataset, target: target, exclude: [])
        #expect(design.target.classes.count == 2)
        for C in LogisticRegression.searchCs {
            let formed = try LogisticRegression.fit(design.matrix, classes: design.target.classIndices, classCount: 2, C: C, from: nil)
            let iterated = try LogisticRegression.fit(design.matrix, classes: design.target.classIndices, classCount: 2, C: C, from: nil, formsHessian: false)
            // Both stop at a gradient of 1e-10; at large C the optimum is flat along some
            // directions, so the weights agree less closely than the probabilities they give.
            #expect(maxRelativeError(formed.solution, iterated.solution) < 1e-6, "C = \(C)")
            let probabilities = [formed.model, iterated.model].map { $0.predict(design.matrix).storage }
            #expect(maxRelativeError(probabilities[0], probabilities[1]) < 1e-8, "C = \(C)")  // the fixtures' tolerance against scikit-learn
            let objective = LogisticObjective(x: design.matrix, classes: design.target.classIndices, outputs: 1, C: C)
            let largest = objective.evaluate(formed.solution).gradient.map(abs).max() ?? .infinity
            #expect(largest <= 1e-9, "C = \(C): largest gradient component \(largest)")
        }
    }
}

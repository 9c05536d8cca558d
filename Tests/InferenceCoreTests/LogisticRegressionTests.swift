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
}

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
        let model = try LogisticRegression.fit(x, classes: classes, classCount: 2, C: 1, tolerance: LogisticRegression.exactTolerance)
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
            let formed = try LogisticRegression.fit(design.matrix, classes: design.target.classIndices, classCount: 2, C: C, from: nil,
                                                   tolerance: LogisticRegression.exactTolerance)
            let iterated = try LogisticRegression.fit(design.matrix, classes: design.target.classIndices, classCount: 2, C: C, from: nil,
                                                     tolerance: LogisticRegression.exactTolerance, formsHessian: false)
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

    /// A fit for use stops at scikit-learn's default tolerance (1e-4 on the largest gradient
    /// component) and then takes one Newton step with the Hessian already formed: on real
    /// tables, at every C the search tries, its held-out log loss equals the exact optimum's to
    /// within 1e-5 (the issue asks 1e-4 against scikit-learn's) and its probabilities to within
    /// 1e-4. More classes are solved exactly.
    @Test("Stopping at scikit-learn's tolerance keeps the held-out log loss",
          arguments: [("Ionosphere.csv", "Class"), ("PimaIndiansDiabetes2.csv", "diabetes"), ("Satellite.csv", "classes"), ("Vehicle.csv", "Class")])
    func defaultToleranceKeepsTheHeldOutLogLoss(dataset: String, target: String) throws {
        let design = try TestData.design(dataset, target: target, exclude: [])
        let rows = design.matrix.rows, training = Array(0..<(rows * 2 / 3)), held = Array((rows * 2 / 3)..<rows)
        // Standardised on the training rows, as the pipeline gives the model its columns.
        var (x, heldX) = (design.matrix.selectingRows(training), design.matrix.selectingRows(held))
        for column in 0..<x.columns {
            let values = x.column(column)
            let mean = values.reduce(0, +) / Double(values.count)
            let spread = max((values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot(), 1e-12)
            for row in 0..<x.rows { x[row, column] = (x[row, column] - mean) / spread }
            for row in 0..<heldX.rows { heldX[row, column] = (heldX[row, column] - mean) / spread }
        }
        let classes = design.target.classIndices, count = design.target.classes.count
        let (trainClasses, heldClasses) = (training.map { classes[$0] }, held.map { classes[$0] })
        func heldOutLogLoss(_ model: LinearModel) -> Double {
            ClassificationMetrics.logLoss(actual: heldClasses, probabilities: model.predict(heldX))
        }
        for C in LogisticRegression.searchCs {
            let usual = try LogisticRegression.fit(x, classes: trainClasses, classCount: count, C: C, from: nil, tolerance: LogisticRegression.defaultTolerance)
            let exact = try LogisticRegression.fit(x, classes: trainClasses, classCount: count, C: C, from: nil, tolerance: LogisticRegression.exactTolerance)
            #expect(usual.steps <= exact.steps, "C = \(C): \(usual.steps) Newton steps against \(exact.steps)")
            let objective = LogisticObjective(x: x, classes: trainClasses, outputs: count == 2 ? 1 : count, C: C)
            let largest = objective.evaluate(usual.solution).gradient.map(abs).max() ?? .infinity
            #expect(largest <= LogisticRegression.defaultTolerance, "C = \(C): largest gradient component \(largest)")
            let (usualLoss, exactLoss) = (heldOutLogLoss(usual.model), heldOutLogLoss(exact.model))
            #expect(abs(usualLoss - exactLoss) <= 1e-5, "C = \(C): held-out log loss \(usualLoss) against \(exactLoss)")
            let difference = zip(usual.model.predict(heldX).storage, exact.model.predict(heldX).storage).map { abs($0 - $1) }.max() ?? 1
            #expect(difference <= 1e-4, "C = \(C): largest probability difference \(difference)")
            if count > 2 { #expect(usual.solution == exact.solution, "C = \(C): more classes are solved exactly") }
        }
    }

    /// On 200,000 rows like the benchmark's, the fit for use takes fewer passes over the data
    /// than the exact one and reaches the same held-out log loss to 1e-5.
    @Test func defaultToleranceSavesPassesOnManyRows() throws {
        let rows = 200_000, columns = 20
        var generator = SeededGenerator(seed: 5)
        func uniform() -> Double { Double(generator.next() >> 11) / Double(1 << 53) * 2 - 1 }
        let all = Matrix(rows: rows + 20_000, columns: columns, storage: (0..<(rows + 20_000) * columns).map { _ in uniform() })
        let labels = (0..<all.rows).map { row in
            sin(3 * all[row, 0]) + all[row, 1] * all[row, 2] + (all[row, 3] > 0 ? 0.5 : -0.5) + 0.3 * all[row, 4] - 0.2 + 0.2 * uniform() > 0 ? 1 : 0
        }
        let (x, heldX) = (all.selectingRows(Array(0..<rows)), all.selectingRows(Array(rows..<all.rows)))
        let (classes, heldClasses) = (Array(labels[..<rows]), Array(labels[rows...]))
        let usual = try LogisticRegression.fit(x, classes: classes, classCount: 2, C: 1, from: nil, tolerance: LogisticRegression.defaultTolerance)
        let exact = try LogisticRegression.fit(x, classes: classes, classCount: 2, C: 1, from: nil, tolerance: LogisticRegression.exactTolerance)
        #expect(usual.steps < exact.steps, "\(usual.steps) Newton steps against \(exact.steps)")
        let losses = [usual, exact].map { ClassificationMetrics.logLoss(actual: heldClasses, probabilities: $0.model.predict(heldX)) }
        #expect(abs(losses[0] - losses[1]) <= 1e-5, "held-out log loss \(losses[0]) against \(losses[1])")
    }

    /// A one-output linear model's scores through the AVX2 kernel of `dense.h` (what a processor
    /// with it uses) against OpenBLAS: on real tables, with a fitted model's weights, and on every
    /// width up to 21, whose tails the kernel masks, with the NaN and infinities an input can carry.
    @Test("The affine kernel scores as OpenBLAS does", .enabled(if: BLAS.DenseKernel.supported.contains(.avx2)),
          arguments: [("Ionosphere.csv", "Class"), ("PimaIndiansDiabetes2.csv", "diabetes")])
    func affineKernelMatchesOpenBLAS(dataset: String, target: String) throws {
        let design = try TestData.design(dataset, target: target, exclude: [])
        let model = try LogisticRegression.fit(design.matrix, classes: design.target.classIndices, classCount: 2, C: 1)
        var cases = [(design.matrix, model.coefficients.storage, model.intercepts[0])]
        var random = SeededGenerator(seed: UInt64(design.matrix.columns))
        for columns in 1...21 {
            for rows in [0, 1, 3, 517] {
                var x = Matrix(rows: rows, columns: columns, storage: (0..<rows * columns).map { _ in Double.random(in: -3...3, using: &random) })
                if rows == 517 { (x[5, columns - 1], x[9, 0], x[11, columns / 2]) = (.nan, .infinity, -.infinity) }
                cases.append((x, (0..<columns).map { _ in Double.random(in: -1...1, using: &random) }, 0.25))
            }
        }
        for (x, weights, bias) in cases {
            let kernel = BLAS.affine(x, weights, bias: bias, kernel: .avx2), openBLAS = BLAS.affine(x, weights, bias: bias, kernel: nil)
            #expect(kernel.count == x.rows)
            for (row, (ours, theirs)) in zip(kernel, openBLAS).enumerated() {
                #expect(ours.isNaN == theirs.isNaN && (ours.isNaN || ours == theirs || abs(ours - theirs) <= 1e-12 * max(1, abs(theirs))),
                        "\(x.rows) × \(x.columns), row \(row): \(ours) against \(theirs)")
            }
        }
    }

    /// The Gram kernel of `dense.h` (a Newton step's Hessian, ridge's normal equations) against
    /// OpenBLAS's SYRK: the upper triangle within rounding of the sums, the lower left as it was,
    /// on a real table's rows and on every width up to 23 and row counts that leave 0 to 3 rows
    /// after the groups of four.
    @Test("The Gram kernel adds as OpenBLAS's SYRK does", .enabled(if: BLAS.DenseKernel.supported.contains(.avx2)))
    func gramKernelMatchesOpenBLAS() throws {
        let design = try TestData.design("Ionosphere.csv", target: "Class", exclude: [])
        var cases = [design.matrix]
        var random = SeededGenerator(seed: 5)
        for width in 1...23 {
            for rows in [0, 1, 3, 4, 6, 517] {
                cases.append(Matrix(rows: rows, columns: width, storage: (0..<rows * width).map { _ in Double.random(in: -3...3, using: &random) }))
            }
        }
        for a in cases {
            let width = a.columns
            let start = Matrix(rows: width, columns: width, storage: (0..<width * width).map { _ in Double.random(in: -1...1, using: &random) })
            var kernel = start, openBLAS = start
            BLAS.addGramUpper(of: a, into: &kernel, kernel: .avx2)
            BLAS.addGramUpper(of: a, into: &openBLAS, kernel: nil)
            for i in 0..<width {
                for j in 0..<width {
                    if j < i {
                        #expect(kernel[i, j] == start[i, j], "\(a.rows) × \(width): [\(i), \(j)] below the diagonal changed")
                        continue
                    }
                    let scale = abs(start[i, j]) + (0..<a.rows).reduce(0) { $0 + abs(a[$1, i] * a[$1, j]) }
                    #expect(abs(kernel[i, j] - openBLAS[i, j]) <= 1e-13 * max(scale, 1), "\(a.rows) × \(width): [\(i), \(j)] \(kernel[i, j]) against \(openBLAS[i, j])")
                }
            }
        }
    }
}

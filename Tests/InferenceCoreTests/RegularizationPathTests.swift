import Foundation
import Testing
@testable import InferenceCore

/// Ridge and logistic regression over their whole regularization paths, against scikit-learn
/// fitted at each penalty on its own (fixtures from scripts/reference/make_fixtures.py).
@Suite("Regularization paths")
struct RegularizationPathTests {
    struct RidgePathCase: Decodable, CustomTestStringConvertible {
        var dataset: String
        var target: String
        var exclude: [String]
        var alphas: [Double]
        var columns: [String]
        var coefficients: [[Double]]
        var intercepts: [Double]
        var predictions: [[Double]]
        var testDescription: String { "ridge path on \(dataset)" }
    }

    struct LogisticPathCase: Decodable, CustomTestStringConvertible {
        var dataset: String
        var target: String
        var exclude: [String]
        var Cs: [Double]
        var classes: [String]
        var stored_rows: Int
        var probabilities: [[Double]]
        var testDescription: String { "logistic path on \(dataset)" }
    }

    static let ridgeCases = (try? TestData.fixture("ridge_path", as: RidgePathCase.self)) ?? []
    static let logisticCases = (try? TestData.fixture("logistic_path", as: LogisticPathCase.self)) ?? []

    @Test func fixturesArePresent() {
        #expect(Self.ridgeCases.count == 3)
        #expect(Self.logisticCases.count == 3)
        #expect(Self.ridgeCases.allSatisfy { $0.alphas.first == 0 && $0.alphas.last! >= 1e5 })
    }

    @Test("One decomposition gives every penalty's coefficients and predictions to 1e-8", arguments: ridgeCases)
    func ridgePath(_ reference: RidgePathCase) throws {
        let design = try TestData.design(reference.dataset, target: reference.target, exclude: reference.exclude)
        let path = try RidgePath(design.matrix, design.target.values)
        let rows = design.matrix.selectingRows(0..<reference.predictions[0].count)
        let predictions = path.predictions(rows, alphas: reference.alphas)
        for (index, alpha) in reference.alphas.enumerated() {
            let model = path.model(alpha: alpha)
            for (referenceIndex, name) in reference.columns.enumerated() {
                let ours = try #require(design.names.firstIndex(of: name))
                #expect(isClose(model.coefficients[0, ours], reference.coefficients[index][referenceIndex], tolerance: 1e-8),
                        "alpha \(alpha), coefficient \(name)")
            }
            #expect(isClose(model.intercepts[0], reference.intercepts[index], tolerance: 1e-8), "alpha \(alpha), intercept")
            #expect(maxRelativeError(predictions.column(index), reference.predictions[index]) < 1e-8, "alpha \(alpha), predictions")
        }
    }

    @Test("The path agrees with the single fits the final model is trained by", arguments: ridgeCases)
    func ridgePathMatchesSingleFits(_ reference: RidgePathCase) throws {
        let design = try TestData.design(reference.dataset, target: reference.target, exclude: reference.exclude)
        let path = try RidgePath(design.matrix, design.target.values)
        for alpha in reference.alphas {
            let single = alpha == 0 ? try LinearRegression.fit(design.matrix, design.target.values)
                                    : try RidgeRegression.fit(design.matrix, design.target.values, alpha: alpha)
            let fromPath = path.model(alpha: alpha)
            #expect(maxRelativeError(fromPath.predict(design.matrix).storage, single.predict(design.matrix).storage) < 1e-8, "alpha \(alpha)")
        }
    }

    @Test func aWideTableTakesTheDirectDecompositionAndAgreesWithTheSingleFits() throws {
        // More columns than rows: no QR step, the SVD of the centred inputs themselves.
        var generator = SeededGenerator(seed: 9)
        let x = Matrix(rows: 8, columns: 20, storage: (0..<160).map { _ in Double(generator.next() >> 11) / Double(1 << 53) - 0.5 })
        let y = (0..<8).map { Double($0) * 0.3 + x[$0, 0] }
        let path = try RidgePath(x, y)
        #expect(path.singularValues.count == 8)
        for alpha in [0, 0.01, 1, 100] {
            let single = alpha == 0 ? try LinearRegression.fit(x, y) : try RidgeRegression.fit(x, y, alpha: alpha)
            #expect(maxRelativeError(path.model(alpha: alpha).coefficients.storage, single.coefficients.storage) < 1e-8, "alpha \(alpha)")
        }
    }

    /// biomass's columns are far from collinear: the path decomposes their Gram matrix, the cost
    /// of one ridge fit, and agrees with the decomposition of the inputs themselves. Servo's
    /// one-hot columns sum to a constant, so its Gram matrix is singular and the inputs are
    /// decomposed instead.
    @Test func theGramMatrixIsDecomposedOnlyWhenItIsWellConditioned() throws {
        let biomass = try TestData.design("biomass.csv", target: "HHV", exclude: ["sample", "dataset"])
        let fromGram = try RidgePath(biomass.matrix, biomass.target.values)
        let exact = try RidgePath(exactly: biomass.matrix, biomass.target.values)
        #expect(fromGram.decomposition == .gram && exact.decomposition == .inputs)
        #expect(maxRelativeError(fromGram.singularValues, exact.singularValues) < 1e-10)
        for alpha in RidgePath.searchAlphas {
            #expect(maxRelativeError(fromGram.coefficients(alpha: alpha), exact.coefficients(alpha: alpha)) < 1e-9, "alpha \(alpha)")
        }
        let servo = try TestData.design("Servo.csv", target: "Class", exclude: [])
        #expect(try RidgePath(servo.matrix, servo.target.values).decomposition == .inputs)
    }

    @Test func strongerPenaltiesShrinkTheCoefficients() throws {
        let design = try TestData.design("biomass.csv", target: "HHV", exclude: ["sample"])
        let path = try RidgePath(design.matrix, design.target.values)
        let norms = [0, 1, 100, 1e4, 1e6].map { alpha in path.coefficients(alpha: alpha).reduce(0) { $0 + $1 * $1 } }
        #expect(norms == norms.sorted(by: >) && norms.last! < 1e-3 * norms.first!)
    }

    @Test("Warm-started logistic path probabilities to 1e-6", arguments: logisticCases)
    func logisticPath(_ reference: LogisticPathCase) throws {
        let design = try TestData.design(reference.dataset, target: reference.target, exclude: reference.exclude)
        #expect(design.target.classes == reference.classes)
        let models = try LogisticRegression.path(design.matrix, classes: design.target.classIndices,
                                                 classCount: design.target.classes.count, Cs: reference.Cs,
                                                 tolerance: LogisticRegression.exactTolerance)
        let rows = design.matrix.selectingRows(0..<reference.stored_rows)
        for (index, C) in reference.Cs.enumerated() {
            let largest = zip(models[index].predict(rows).storage, reference.probabilities[index]).map { abs($0 - $1) }.max() ?? 1
            #expect(largest < 1e-6, "C \(C): largest probability difference \(largest)")
        }
    }

    @Test func pathOrderDoesNotMatter() throws {
        let design = try TestData.design("PimaIndiansDiabetes2.csv", target: "diabetes", exclude: [])
        let (classes, count) = (design.target.classIndices, design.target.classes.count)
        let exact = LogisticRegression.exactTolerance
        let increasing = try LogisticRegression.path(design.matrix, classes: classes, classCount: count, Cs: [0.01, 1, 100], tolerance: exact)
        let shuffled = try LogisticRegression.path(design.matrix, classes: classes, classCount: count, Cs: [100, 0.01, 1], tolerance: exact)
        for (a, b) in zip(increasing, [shuffled[1], shuffled[2], shuffled[0]]) {
            #expect(maxRelativeError(a.predict(design.matrix).storage, b.predict(design.matrix).storage) < 1e-8)
        }
    }
}

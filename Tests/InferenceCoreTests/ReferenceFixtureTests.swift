import Foundation
import Testing
@testable import InferenceCore

/// InferenceCore against scikit-learn on real data (fixtures from scripts/reference/make_fixtures.py).
@Suite("Checked against scikit-learn")
struct ReferenceFixtureTests {
    struct PreprocessingCase: Decodable, CustomTestStringConvertible {
        var dataset: String
        var target: String
        var exclude: [String]
        var rows: Int
        var columns: [String]
        var shape: [Int]
        var matrix: [Double]
        var testDescription: String { dataset }
    }

    struct LinearCase: Decodable, CustomTestStringConvertible {
        var dataset: String
        var target: String
        var exclude: [String]
        var algorithm: String
        var parameters: [String: Double]
        var columns: [String]
        var coefficients: [Double]
        var intercept: Double
        var predictions: [Double]
        var testDescription: String { "\(algorithm) on \(dataset)" }
    }

    struct LogisticCase: Decodable, CustomTestStringConvertible {
        var dataset: String
        var target: String
        var exclude: [String]
        var C: Double
        var classes: [String]
        var probabilities: [Double]
        var stored_rows: Int
        var testDescription: String { "logistic C=\(C) on \(dataset)" }
    }

    static let preprocessingCases = (try? TestData.fixture("preprocessing", as: PreprocessingCase.self)) ?? []
    static let linearCases = (try? TestData.fixture("linear", as: LinearCase.self)) ?? []
    static let logisticCases = (try? TestData.fixture("logistic", as: LogisticCase.self)) ?? []

    @Test func fixturesArePresent() {
        #expect(Self.preprocessingCases.count == 4)
        #expect(Self.linearCases.count == 5)
        #expect(Self.logisticCases.count == 5)
    }

    @Test("Imputation, scaling and one-hot encoding equal scikit-learn's", arguments: preprocessingCases)
    func preprocessing(_ reference: PreprocessingCase) throws {
        var table = try TestData.table(reference.dataset, target: reference.target)
        let prepared = try PreparedData(table, spec: TrainingSpec(target: reference.target, excludedColumns: Set(reference.exclude)))
        table = prepared.table.selectingRows(Array(0..<reference.rows))
        let preprocessor = try Preprocessor.fit(table, features: prepared.features)
        let matrix = try preprocessor.transform(table)
        #expect(Set(preprocessor.outputNames) == Set(reference.columns))
        #expect(matrix.rows == reference.shape[0] && matrix.columns == reference.shape[1])
        for (referenceColumn, name) in reference.columns.enumerated() {
            let ours = try #require(preprocessor.outputNames.firstIndex(of: name))
            let expected = (0..<reference.shape[0]).map { reference.matrix[$0 * reference.shape[1] + referenceColumn] }
            #expect(maxRelativeError(matrix.column(ours), expected) < 1e-12, "column \(name)")
        }
    }

    @Test("Least squares and ridge coefficients and predictions to 1e-9", arguments: linearCases)
    func linear(_ reference: LinearCase) throws {
        let design = try TestData.design(reference.dataset, target: reference.target, exclude: reference.exclude)
        let algorithm = try AlgorithmRegistry.named(reference.algorithm)
        let model = try #require(try algorithm.fit(design.matrix, design.target, parameters: reference.parameters) as? LinearModel)
        for (referenceIndex, name) in reference.columns.enumerated() {
            let ours = try #require(design.names.firstIndex(of: name))
            #expect(isClose(model.coefficients[0, ours], reference.coefficients[referenceIndex], tolerance: 1e-9), "coefficient \(name)")
        }
        #expect(isClose(model.intercepts[0], reference.intercept, tolerance: 1e-9))
        let predictions = Array(model.predict(design.matrix).storage.prefix(reference.predictions.count))
        #expect(maxRelativeError(predictions, reference.predictions) < 1e-9)
    }

    @Test("Logistic regression probabilities to 1e-6", arguments: logisticCases)
    func logistic(_ reference: LogisticCase) throws {
        let design = try TestData.design(reference.dataset, target: reference.target, exclude: reference.exclude)
        #expect(design.target.classes == reference.classes)
        // The exact optimum (the fixtures are scikit-learn's, solved to a tight tolerance).
        let model = try LogisticRegression.fit(design.matrix, classes: design.target.classIndices, classCount: design.target.classes.count,
                                               C: reference.C, tolerance: LogisticRegression.exactTolerance)
        let probabilities = model.predict(design.matrix.selectingRows(0..<reference.stored_rows))
        let largest = zip(probabilities.storage, reference.probabilities).map { abs($0 - $1) }.max() ?? 1
        #expect(largest < 1e-6, "largest probability difference \(largest)")
    }
}

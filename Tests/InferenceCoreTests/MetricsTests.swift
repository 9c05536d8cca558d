import Testing
@testable import InferenceCore

@Suite("Metrics")
struct MetricsTests {
    struct MetricCase: Decodable, CustomTestStringConvertible {
        var kind: String
        var classes: Int?
        var actual: [Double]
        var probabilities: [Double]?
        var predicted: [Double]?
        var metrics: [String: Double]
        var confusion_matrix: [[Int]]?
        var testDescription: String { kind + (classes.map { " (\($0) classes)" } ?? "") }
    }

    static let cases = (try? TestData.fixture("metrics", as: MetricCase.self)) ?? []

    @Test("Every metric equals scikit-learn's to 1e-12", arguments: cases)
    func againstScikitLearn(_ reference: MetricCase) throws {
        let ours: [String: Double]
        if reference.kind == "regression" {
            ours = RegressionMetrics.compute(actual: reference.actual, predicted: try #require(reference.predicted))
        } else {
            let classes = try #require(reference.classes)
            let probabilities = Matrix(rows: reference.actual.count, columns: classes, storage: try #require(reference.probabilities))
            let actual = reference.actual.map { Int($0) }
            ours = ClassificationMetrics.compute(actual: actual, probabilities: probabilities)
            let confusion = ClassificationMetrics.confusionMatrix(
                actual: actual, predicted: ClassificationMetrics.predictedClasses(probabilities), classCount: classes)
            #expect(confusion == reference.confusion_matrix)
        }
        #expect(Set(ours.keys) == Set(reference.metrics.keys))
        for (name, expected) in reference.metrics {
            #expect(isClose(try #require(ours[name]), expected, tolerance: 1e-12), "\(name): \(ours[name]!) vs \(expected)")
        }
    }

    @Test func aucCountsTiesAsHalf() throws {
        // Two positives and two negatives all tied: no ranking information, AUC 0.5.
        #expect(ClassificationMetrics.binaryAUC(positive: [true, false, true, false], scores: [0.5, 0.5, 0.5, 0.5]) == 0.5)
        #expect(ClassificationMetrics.binaryAUC(positive: [true, false], scores: [0.9, 0.1]) == 1)
        #expect(ClassificationMetrics.binaryAUC(positive: [true, true], scores: [0.9, 0.1]) == nil)
    }
}

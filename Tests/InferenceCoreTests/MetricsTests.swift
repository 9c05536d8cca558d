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
        var reliability: [String: [Double]]?
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
            if let curve = reference.reliability {
                // scikit-learn's calibration_curve, for the binary case.
                let bins = Calibration.reliabilityTable(actual: actual, probabilities: probabilities)
                #expect(maxRelativeError(bins.map(\.observedFrequency), curve["observed_frequency"]!) < 1e-12)
                #expect(maxRelativeError(bins.map(\.meanPredicted), curve["mean_predicted"]!) < 1e-12)
                #expect(bins.reduce(0) { $0 + $1.count } == actual.count)
            }
        }
        #expect(Set(ours.keys) == Set(reference.metrics.keys))
        for (name, expected) in reference.metrics {
            #expect(isClose(try #require(ours[name]), expected, tolerance: 1e-12), "\(name): \(ours[name]!) vs \(expected)")
        }
    }

    @Test func binaryFixtureHasAReliabilityCurve() {
        #expect(Self.cases.contains { $0.reliability != nil })
    }

    @Test func reliabilityBinsTakeEdgesIntoTheLowerBin() {
        let bins = Calibration.reliability(predicted: [0.1, 0.15, 0.9, 1.0], observed: [false, true, true, true])
        #expect(bins.map(\.count) == [1, 1, 1, 1])
        #expect(bins.map(\.lower) == [0, 0.1, 0.8, 0.9])
    }

    @Test func crossValidationReportsOutOfFoldReliability() throws {
        let prepared = try PreparedData(TestData.table("PimaIndiansDiabetes2.csv", target: "diabetes"), spec: TrainingSpec(target: "diabetes"))
        let result = try prepared.crossValidate(plan: .random(folds: 5), parameters: ["C": 1], seed: 0)
        let bins = try #require(result.reliability)
        #expect(bins.reduce(0) { $0 + $1.count } == 768)
        // A well-specified logistic model is roughly calibrated: bins with many rows are near the diagonal.
        for bin in bins where bin.count >= 50 { #expect(abs(bin.meanPredicted - bin.observedFrequency) < 0.15) }
        #expect(try #require(result.metrics["brier"]) < 0.25)
    }

    @Test func aucCountsTiesAsHalf() throws {
        // Two positives and two negatives all tied: no ranking information, AUC 0.5.
        #expect(ClassificationMetrics.binaryAUC(positive: [true, false, true, false], scores: [0.5, 0.5, 0.5, 0.5]) == 0.5)
        #expect(ClassificationMetrics.binaryAUC(positive: [true, false], scores: [0.9, 0.1]) == 1)
        #expect(ClassificationMetrics.binaryAUC(positive: [true, true], scores: [0.9, 0.1]) == nil)
    }
}

import Foundation
import Testing
@testable import InferenceCore

/// Prediction intervals and sets are measured, not assumed: over repeated splits of each shared
/// dataset, the share of held-out rows whose value is inside the 90% interval (or whose class is
/// in the set) must average 0.87 to 0.93. `scripts/interval-coverage.py` makes the full table in
/// `docs/prediction-intervals.md` (every family) with the command line.
@Suite("Conformal prediction intervals and sets")
struct ConformalTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var dataset: String
        var target: String
        var algorithm: String
        var parameters: Hyperparameters = [:]
        var repeats = 10
        /// Classes with fewer rows are left out: such a class can be learned or held out, not
        /// both, and rows that are never held out skew the comparison.
        var minimumClassRows = 0
        var testDescription: String { "\(dataset) \(algorithm)" }
        var classification: Bool { !["Servo.csv", "biomass.csv", "Ozone.csv", "Chicago.csv"].contains(dataset) }
    }

    static let cases: [Case] = [
        Case(dataset: "Servo.csv", target: "Class", algorithm: "gbdt", parameters: ["max_iter": 50], repeats: 20),
        Case(dataset: "biomass.csv", target: "HHV", algorithm: "ridge"),
        Case(dataset: "Ozone.csv", target: "V4", algorithm: "ridge", repeats: 20),
        Case(dataset: "Chicago.csv", target: "ridership", algorithm: "ridge"),
        Case(dataset: "Glass.csv", target: "Type", algorithm: "random_forest", parameters: ["n_estimators": 30], repeats: 20),
        Case(dataset: "Vehicle.csv", target: "Class", algorithm: "logistic"),
        // k-NN's probabilities are multiples of 1/5: many scores tie at the quantile.
        Case(dataset: "Vehicle.csv", target: "Class", algorithm: "knn"),
        Case(dataset: "PimaIndiansDiabetes2.csv", target: "diabetes", algorithm: "knn", repeats: 30),
        Case(dataset: "Ionosphere.csv", target: "Class", algorithm: "logistic", repeats: 20),
        Case(dataset: "PimaIndiansDiabetes2.csv", target: "diabetes", algorithm: "logistic"),
        Case(dataset: "mlc_churn.csv", target: "churn", algorithm: "gbdt", parameters: ["max_iter": 50], repeats: 5),
        Case(dataset: "Satellite.csv", target: "classes", algorithm: "logistic", repeats: 5),
        // Without corn (2 rows) and peanut (3): 91 of its 96 rows.
        Case(dataset: "oils.csv", target: "class", algorithm: "logistic", repeats: 80, minimumClassRows: 4),
    ]

    /// The mean coverage and width over `repeats` random 75/25 splits (stratified for
    /// classification); the model's calibration comes from the cross-validation of its 75% alone.
    static func measure(_ testCase: Case) throws -> (coverage: Double, width: Double) {
        var table = try TestData.table(testCase.dataset, target: testCase.target)
        table.columns.removeAll { $0.name == "sample" || $0.name == "dataset" }
        table = DataTable(columns: table.columns)
        if testCase.minimumClassRows > 0 {
            let labels = try table.column(named: testCase.target).values
            var counts: [String: Int] = [:]
            for row in 0..<table.rowCount { counts[labels.text(at: row) ?? "", default: 0] += 1 }
            table = table.selectingRows((0..<table.rowCount).filter { counts[labels.text(at: $0) ?? ""]! >= testCase.minimumClassRows })
        }
        var coverages: [Double] = [], widths: [Double] = []
        for repeatIndex in 0..<testCase.repeats {
            var generator = SeededGenerator(seed: UInt64(repeatIndex) + 100)
            let labels = try table.column(named: testCase.target).values
            var strata: [String: [Int]] = [:]
            for row in 0..<table.rowCount { strata[testCase.classification ? labels.text(at: row) ?? "" : "", default: []].append(row) }
            var trainRows: [Int] = [], testRows: [Int] = []
            for key in strata.keys.sorted() {
                var members = strata[key]!
                generator.shuffle(&members)
                // A quarter, rounded at random so that small classes are held out as often as
                // large ones (in expectation), leaving at least two rows of each class to train on.
                let quarter = Double(members.count) / 4 + Double.random(in: 0..<1, using: &generator)
                let held = min(Int(quarter), testCase.classification ? max(members.count - 2, 0) : members.count)
                testRows += members[..<held]
                trainRows += members[held...]
            }
            let (train, test) = (table.selectingRows(trainRows.sorted()), table.selectingRows(testRows.sorted()))
            let spec = TrainingSpec(target: testCase.target, algorithm: .named(testCase.algorithm), parameters: testCase.parameters,
                                    seed: UInt64(repeatIndex), split: SplitRequest(scheme: .random))
            let model = try TrainedModel.train(train, spec: spec)
            let held = try model.predict(test)
            let actual = try test.column(named: testCase.target).values
            var inside = 0, counted = 0, width = 0.0
            for row in 0..<test.rowCount {
                guard let text = actual.text(at: row) else { continue }
                counted += 1
                if let intervals = held.intervals {
                    let value = Double(text)!
                    if intervals[row].lower <= value && value <= intervals[row].upper { inside += 1 }
                    width += intervals[row].upper - intervals[row].lower
                } else if let sets = held.predictionSets {
                    if sets[row].contains(where: { model.classes[$0] == text }) { inside += 1 }
                    width += Double(sets[row].count)
                }
            }
            coverages.append(Double(inside) / Double(counted))
            widths.append(width / Double(counted))
        }
        return (coverages.reduce(0, +) / Double(coverages.count), widths.reduce(0, +) / Double(widths.count))
    }

    @Test(arguments: cases)
    func ninetyPercentIntervalsCoverNinetyPercentOfNewRows(_ testCase: Case) throws {
        let (coverage, width) = try Self.measure(testCase)
        #expect((0.87...0.93).contains(coverage), "coverage \(coverage), mean width \(width)")
        #expect(width > 0)
    }

    @Test func theQuantileIsTheConformalRank() {
        // n = 9 scores at 90%: rank ⌈10 × 0.9⌉ = 9, the largest; n = 19: rank 18.
        #expect(ConformalCalibration.quantile((1...9).map(Double.init), coverage: 0.9) == 9)
        #expect(ConformalCalibration.quantile((1...19).map(Double.init), coverage: 0.9) == 18)
        #expect(ConformalCalibration.quantile([.nan, 3, 1, 2], coverage: 0.5) == 2)
        #expect(ConformalCalibration.quantile([], coverage: 0.9) == nil)
    }

    @Test func aSetHoldsTheLabelsAsLikelyAsTheCalibrationAsks() {
        let calibration = ConformalCalibration(coverage: 0.9, halfWidth: nil, minimumProbability: 0.6, calibrationRows: 10)
        #expect(calibration.predictionSet(probabilities: [0.2, 0.5, 0.3]) == [])
        #expect(calibration.predictionSet(probabilities: [0.05, 0.3, 0.65]) == [2])
        let wide = ConformalCalibration(coverage: 0.95, halfWidth: nil, minimumProbability: 0.1, calibrationRows: 10)
        #expect(wide.predictionSet(probabilities: [0.15, 0.05, 0.8]) == [2, 0])
    }

    @Test func tiedLabelsAreIncludedInTheCalibratedShareAndTheSameForTheSameInput() {
        let calibration = ConformalCalibration(coverage: 0.9, halfWidth: nil, minimumProbability: 0.4, tieShare: 0.5, calibrationRows: 100)
        var included = 0
        // The same probabilities for every row, as k-NN gives: the inputs decide.
        let p = [0.4, 0.6, 0]
        for row in 0..<1000 {
            let inputs = [Double(row), 1.5]
            let set = calibration.predictionSet(probabilities: p, inputs: inputs)
            #expect(set.first == 1 && set == calibration.predictionSet(probabilities: p, inputs: inputs))
            if set.contains(0) { included += 1 }
        }
        #expect((400...600).contains(included), "\(included) of 1000 tied labels included at a share of 0.5")
    }

    @Test(arguments: [0.0, 1.0, -0.5, 1.5, Double.nan, .infinity])
    func aCoverageOutsideZeroToOneIsRefused(_ coverage: Double) throws {
        let table = try TestData.table("Servo.csv", target: "Class")
        let error = try #require(throws: TestbedError.self) { try PreparedData(table, spec: TrainingSpec(target: "Class", coverage: coverage)) }
        #expect(error.code == .invalidParameter && error.message.contains("must be between 0 and 1"))
    }

    @Test func aHigherCoverageGivesWiderIntervals() throws {
        let table = try TestData.table("Servo.csv", target: "Class")
        let narrow = try TrainedModel.train(table, spec: TrainingSpec(target: "Class", coverage: 0.5))
        let wide = try TrainedModel.train(table, spec: TrainingSpec(target: "Class", coverage: 0.95))
        let (n, w) = (try #require(narrow.training.evaluation?.conformal?.halfWidth), try #require(wide.training.evaluation?.conformal?.halfWidth))
        #expect(n < w)
        let predictions = try wide.predict(table)
        #expect(predictions.coverage == 0.95)
        #expect(zip(predictions.values, predictions.intervals!).allSatisfy { abs(($1.upper + $1.lower) / 2 - $0) < 1e-9 && abs($1.upper - $1.lower - 2 * w) < 1e-9 })
    }
}

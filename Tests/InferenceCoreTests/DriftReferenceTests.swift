import Foundation
import Testing
@testable import InferenceCore

/// The drift reference's bins and PSI against numpy on real data (fixture from
/// scripts/reference/make_fixtures.py), and how served rows are counted.
@Suite("Drift reference")
struct DriftReferenceTests {
    struct Bins: Decodable {
        var name: String
        var kind: String
        var edges: [Double]?
        var min: Double?
        var max: Double?
        var levels: [String]?
        var counts: [Int]
        var shares: [Double]
    }

    struct Holdout: Decodable {
        var name: String
        var reference: Bins
        var counts: [Int]
        var outside: Int
        var psi: Double
    }

    struct DriftCase: Decodable, CustomTestStringConvertible {
        var dataset: String
        var target: String
        var rows: Int
        var quantities: [Bins]
        var target_bins: Bins?
        var train_rows: Int
        var holdout: [Holdout]
        var testDescription: String { dataset }
    }

    static let cases = (try? TestData.fixture("drift", as: DriftCase.self)) ?? []

    /// The prepared training table of a dataset and its reference, with the target standing in
    /// for the predictions (a model that predicts perfectly).
    static func reference(_ dataset: String, target: String, rows: Range<Int>? = nil) throws -> (DriftReference, PreparedData) {
        var prepared = try PreparedData(TestData.table(dataset, target: target), spec: TrainingSpec(target: target))
        if let rows {
            prepared.table = prepared.table.selectingRows(Array(rows))
            prepared.target = prepared.target.selecting(Array(rows))
        }
        return (try DriftReference(features: prepared.features, table: prepared.table, predictions: targetPredictions(prepared.target)), prepared)
    }

    static func targetPredictions(_ target: Target) -> Predictions {
        Predictions(task: target.task, values: target.values, probabilities: nil, classes: target.classes, warnings: [])
    }

    static func expectEqual(_ quantity: DriftReference.Quantity, _ expected: Bins, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(quantity.kind.rawValue == expected.kind, sourceLocation: sourceLocation)
        #expect(quantity.levels == expected.levels, "levels of \(expected.name)", sourceLocation: sourceLocation)
        #expect(quantity.edges?.count == expected.edges?.count, "edges of \(expected.name)", sourceLocation: sourceLocation)
        if let edges = quantity.edges, let expectedEdges = expected.edges, edges.count == expectedEdges.count {
            #expect(maxRelativeError(edges, expectedEdges) < 1e-9, "edges of \(expected.name)", sourceLocation: sourceLocation)
        }
        #expect(quantity.min == expected.min && quantity.max == expected.max, "range of \(expected.name)", sourceLocation: sourceLocation)
        #expect(quantity.shares.count == expected.shares.count, "bins of \(expected.name)", sourceLocation: sourceLocation)
        if quantity.shares.count == expected.shares.count {
            #expect(maxRelativeError(quantity.shares, expected.shares) < 1e-9, "shares of \(expected.name)", sourceLocation: sourceLocation)
        }
    }

    @Test func fixtureIsPresent() {
        #expect(Self.cases.count == 5)
    }

    @Test("Deciles, levels and shares equal numpy's", arguments: cases)
    func binsEqualNumpy(_ reference: DriftCase) throws {
        let (drift, prepared) = try Self.reference(reference.dataset, target: reference.target)
        #expect(prepared.table.rowCount == reference.rows)
        // Every feature but the timestamps, in feature order.
        #expect(drift.features.map(\.name) == prepared.features.filter { $0.kind != .timestamp }.map(\.name))
        for expected in reference.quantities {
            let quantity = try #require(drift.features.first { $0.name == expected.name })
            Self.expectEqual(quantity, expected)
            #expect(abs(quantity.shares.reduce(0, +) - 1) < 1e-12)
        }
        if let expected = reference.target_bins {
            Self.expectEqual(drift.prediction, expected)
        }
    }

    @Test("A reference on the first rows, the rest counted: counts and PSI equal numpy's", arguments: cases)
    func holdoutEqualsNumpy(_ reference: DriftCase) throws {
        let (drift, _) = try Self.reference(reference.dataset, target: reference.target, rows: 0..<reference.train_rows)
        let (_, served) = try Self.reference(reference.dataset, target: reference.target, rows: reference.train_rows..<reference.rows)
        var counts = DriftCounts(reference: drift)
        drift.count(served.table, predictions: Self.targetPredictions(served.target), into: &counts)
        #expect(counts.rows == reference.rows - reference.train_rows)
        for expected in reference.holdout {
            let (quantity, observed, outside): (DriftReference.Quantity, [Int], Int)
            if let index = drift.features.firstIndex(where: { $0.name == expected.name }) {
                (quantity, observed, outside) = (drift.features[index], counts.features[index], counts.outside[index])
            } else {
                (quantity, observed, outside) = (drift.prediction, counts.prediction, 0)
            }
            Self.expectEqual(quantity, expected.reference)
            #expect(observed == expected.counts, "counts of \(expected.name)")
            #expect(outside == expected.outside, "outside of \(expected.name)")
            #expect(isClose(PopulationStability.index(expected: quantity.shares, observed: observed), expected.psi, tolerance: 1e-9), "PSI of \(expected.name)")
        }
    }

    @Test("Counting the training table gives back the reference shares exactly",
          arguments: [("Servo.csv", "Class"), ("mlc_churn.csv", "churn"), ("PimaIndiansDiabetes2.csv", "diabetes"), ("Chicago.csv", "ridership")])
    func countingTheTrainingRowsReproducesTheShares(_ dataset: String, _ target: String) throws {
        let (drift, prepared) = try Self.reference(dataset, target: target)
        var counts = DriftCounts(reference: drift)
        drift.count(prepared.table, predictions: Self.targetPredictions(prepared.target), into: &counts)
        let rows = prepared.table.rowCount
        #expect(counts.rows == rows)
        for (quantity, bins) in zip(drift.features, counts.features) {
            #expect(quantity.shares == bins.map { Double($0) / Double(rows) }, "\(quantity.name)")
        }
        #expect(drift.prediction.shares == counts.prediction.map { Double($0) / Double(rows) })
        #expect(counts.outside.allSatisfy { $0 == 0 })
        // Counting in two halves and adding them is the same as counting at once.
        var halves = DriftCounts(reference: drift)
        for part in [0..<rows / 2, rows / 2..<rows] {
            var window = DriftCounts(reference: drift)
            drift.count(prepared.table.selectingRows(Array(part)), predictions: Self.targetPredictions(prepared.target.selecting(Array(part))), into: &window)
            halves.add(window)
        }
        #expect(halves == counts)
    }

    @Test func theOtherBinHoldsTheRareLevelsBeyondTwenty() throws {
        let (drift, _) = try Self.reference("mlc_churn.csv", target: "churn")
        let state = try #require(drift.features.first { $0.name == "state" })
        #expect(state.levels?.count == DriftReference.maxLevels)
        #expect(state.shares[DriftReference.maxLevels] > 0.5)
        #expect(state.binLabels.suffix(2) == ["other or unseen", "missing"])
        let plan = try #require(drift.features.first { $0.name == "international_plan" })
        #expect(plan.kind == .categorical && plan.levels == ["no", "yes"])
    }

    // MARK: Served rows

    /// Servo's reference: Motor and Screw (levels A–E), Pgain (3–6) and Vgain (1–5).
    static func servo() throws -> DriftReference {
        try reference("Servo.csv", target: "Class").0
    }

    static func counts(_ drift: DriftReference, _ table: DataTable) -> DriftCounts {
        var counts = DriftCounts(reference: drift)
        let predictions = Predictions(task: .regression, values: [Double](repeating: 20, count: table.rowCount), probabilities: nil, classes: [], warnings: [])
        drift.count(table, predictions: predictions, into: &counts)
        return counts
    }

    static func bin(_ drift: DriftReference, _ feature: String, of value: Double) throws -> Int {
        let quantity = try #require(drift.features.first { $0.name == feature })
        return quantity.edges!.prefix { $0 <= value }.count
    }

    @Test func aMissingColumnCountsEveryRowAsMissing() throws {
        let drift = try Self.servo()
        let table = DataTable(names: ["Motor", "Screw", "Vgain"], rows: [["A", "B", "3"], ["C", nil, "4"]])
        let counts = Self.counts(drift, table)
        let pgain = try #require(drift.features.firstIndex { $0.name == "Pgain" })
        #expect(counts.features[pgain] == [Int](repeating: 0, count: drift.features[pgain].binCount - 1) + [2])
        let screw = try #require(drift.features.firstIndex { $0.name == "Screw" })
        #expect(counts.features[screw].last == 1)
        #expect(counts.rows == 2 && counts.prediction.reduce(0, +) == 2)
    }

    @Test func anUnseenCategoryCountsAsOther() throws {
        let drift = try Self.servo()
        let counts = Self.counts(drift, DataTable(names: ["Motor", "Screw", "Pgain", "Vgain"], rows: [["Z", "a", "4", "2"], ["A", "B", "5", "3"]]))
        let motor = try #require(drift.features.firstIndex { $0.name == "Motor" })
        let levels = try #require(drift.features[motor].levels)
        #expect(counts.features[motor][levels.count] == 1)
        #expect(counts.features[motor][levels.firstIndex(of: "A")!] == 1)
        // Categories match by their exact text, as the one-hot encoder's.
        let screw = try #require(drift.features.firstIndex { $0.name == "Screw" })
        #expect(counts.features[screw][levels.count] == 1)
    }

    @Test func numericTextCellsAreReadAsThePreprocessorReadsThem() throws {
        let drift = try Self.servo()
        let asText = DataTable(columns: [Column(name: "Pgain", values: .text(codes: [0, 1, 2, -1, 3], levels: ["4", " 5 ", "4,5", "lots"]))])
        let asNumbers = DataTable(columns: [Column(name: "Pgain", values: .numeric([4, 5, 4.5, .nan, .nan]))])
        let pgain = try #require(drift.features.firstIndex { $0.name == "Pgain" })
        #expect(Self.counts(drift, asText).features[pgain] == Self.counts(drift, asNumbers).features[pgain])
        #expect(Self.counts(drift, asText).features[pgain].last == 2)
    }

    @Test func valuesOutsideTheTrainingRangeAreCountedBesideTheirBin() throws {
        let drift = try Self.servo()
        let pgain = try #require(drift.features.firstIndex { $0.name == "Pgain" })
        let quantity = drift.features[pgain]
        #expect(quantity.min == 3 && quantity.max == 6)
        let counts = Self.counts(drift, DataTable(columns: [Column(name: "Pgain", values: .numeric([2, 3, 6, 99, .infinity]))]))
        #expect(counts.outside[pgain] == 3)
        #expect(counts.features[pgain][try Self.bin(drift, "Pgain", of: 2)] >= 1)
        #expect(counts.features[pgain][quantity.binCount - 2] == 3)
        #expect(counts.features[pgain].reduce(0, +) == 5)
        #expect(counts.outside.enumerated().allSatisfy { $0.offset == pgain || $0.element == 0 })
    }

    @Test func yesNoCellsAreReadInAnyCaseOrAsOneAndZero() throws {
        let table = try TestData.table(csv: "plan,x,y\nyes,1,1\nno,2,2\nno,3,3\nyes,4,4\nno,5,5\n")
        let prepared = try PreparedData(table, spec: TrainingSpec(target: "y"))
        let drift = try DriftReference(features: prepared.features, table: prepared.table, predictions: Self.targetPredictions(prepared.target))
        #expect(drift.features[0].levels == ["no", "yes"])
        #expect(drift.features[0].shares == [0.6, 0.4, 0, 0])
        let served = DataTable(columns: [Column(name: "plan", values: .text(codes: [0, 1, 2, 3, -1], levels: ["YES", " no", "maybe", "1"]))])
        #expect(Self.counts(drift, served).features[0] == [1, 2, 0, 2])
        let numbers = DataTable(columns: [Column(name: "plan", values: .numeric([1, 0, 0.5, .nan]))])
        #expect(Self.counts(drift, numbers).features[0] == [1, 1, 1, 1])
    }

    @Test func aCategorySentAsANumberFindsItsLevel() throws {
        let table = try TestData.table(csv: "grade,x,y\nA1,1,1\n10,2,2\n10,3,3\n2.5,4,4\nA1,5,5\n10,6,6\n", options: CSVReadOptions(textColumns: ["grade"]))
        let prepared = try PreparedData(table, spec: TrainingSpec(target: "y"))
        let drift = try DriftReference(features: prepared.features, table: prepared.table, predictions: Self.targetPredictions(prepared.target))
        #expect(drift.features[0].levels == ["10", "A1", "2.5"])
        let served = DataTable(columns: [Column(name: "grade", values: .numeric([10, 2.5, 7, .nan]))])
        #expect(Self.counts(drift, served).features[0] == [1, 0, 1, 1, 1])
    }

    @Test func predictedClassesAreCountedByIndex() throws {
        let (drift, _) = try Self.reference("Glass.csv", target: "Type")
        #expect(drift.prediction.kind == .categorical)
        #expect(drift.prediction.levels == ["1", "2", "3", "5", "6", "7"])
        var counts = DriftCounts(reference: drift)
        let table = DataTable(names: ["RI"], rows: [["1.52"], ["1.51"], ["1.53"], ["1.5"]])
        let predictions = Predictions(task: .classification, values: [0, 5, 9, .nan], probabilities: nil, classes: drift.prediction.levels!, warnings: [])
        drift.count(table, predictions: predictions, into: &counts)
        #expect(counts.prediction == [1, 0, 0, 0, 0, 1, 1, 1])
    }

    @Test func countsOfAnotherLayoutAreLeftAlone() throws {
        let drift = try Self.servo()
        let (other, _) = try Self.reference("Glass.csv", target: "Type")
        var counts = DriftCounts(reference: other)
        let before = counts
        drift.count(DataTable(names: ["Pgain"], rows: [["4"]]), predictions: Predictions(task: .regression, values: [1], probabilities: nil, classes: [], warnings: []), into: &counts)
        #expect(counts == before)
        var servoCounts = Self.counts(drift, DataTable(names: ["Pgain"], rows: [["4"]]))
        let servoBefore = servoCounts
        servoCounts.add(counts)
        #expect(servoCounts == servoBefore)
    }

    @Test func binLabelsNameTheRanges() throws {
        let quantity = DriftReference.Quantity(name: "t", kind: .numeric, edges: [3.2, 4.1, 9.7], min: 1, max: 12, shares: [0.25, 0.25, 0.25, 0.25, 0])
        #expect(quantity.binLabels == ["< 3.2", "3.2 – 4.1", "4.1 – 9.7", "≥ 9.7", "missing"])
        let close = DriftReference.Quantity(name: "t", kind: .numeric, edges: [1.0001, 1.0002, 2_500_000], shares: [0.25, 0.25, 0.25, 0.25, 0])
        #expect(close.binLabels == ["< 1.0001", "1.0001 – 1.0002", "1.0002 – 2500000", "≥ 2500000", "missing"])
        let category = DriftReference.Quantity(name: "c", kind: .categorical, levels: ["B", "A"], shares: [0.5, 0.5, 0, 0])
        #expect(category.binLabels == ["B", "A", "other or unseen", "missing"])
        #expect(try Self.servo().features.allSatisfy { $0.binLabels.count == $0.shares.count })
    }

    // MARK: PSI

    @Test func psiIsZeroForTheTrainingDistribution() {
        #expect(PopulationStability.index(expected: [0.25, 0.5, 0.25, 0], observed: [10, 20, 10, 0]) == 0)
        #expect(PopulationStability.index(expected: [0.5, 0.5], observed: [0, 0]) == 0)
    }

    @Test func psiOfAHandExample() {
        // o = (0.75, 0.25), e = (0.5, 0.5): 0.25·ln 1.5 + 0.25·ln 2.
        let psi = PopulationStability.index(expected: [0.5, 0.5], observed: [3, 1])
        #expect(abs(psi - 0.25 * (log(1.5) + log(2))) < 1e-15)
        // An empty bin is floored at 1e-4 rather than infinite: (1e-4 − 0.5)·ln(1e-4 / 0.5) + 0.5·ln(1 / 0.5).
        let empty = PopulationStability.index(expected: [0.5, 0.5, 0], observed: [0, 4, 0])
        #expect(abs(empty - ((1e-4 - 0.5) * log(1e-4 / 0.5) + 0.5 * log(2))) < 1e-12)
        #expect(PopulationStability.index(expected: [0.5, 0.5], observed: [1, 1, 1]).isNaN)
    }

    @Test(arguments: [(0.0, PopulationStability.Band.stable), (0.099, .stable), (0.1, .moderate), (0.2499, .moderate), (0.25, .major), (3, .major)])
    func bands(_ psi: Double, _ band: PopulationStability.Band) {
        #expect(PopulationStability.band(psi) == band)
    }

    // MARK: Model files

    @Test func aTrainedModelCarriesItsReferenceThroughItsFile() throws {
        let model = try TrainedModel.train(TestData.table("Servo.csv", target: "Class"), spec: TrainingSpec(target: "Class", folds: 0))
        let drift = try #require(model.training.driftReference)
        #expect(drift.features.map(\.name) == ["Motor", "Screw", "Pgain", "Vgain"])
        #expect(drift.prediction.kind == .numeric && drift.prediction.edges?.count == 9)
        let loaded = try TrainedModel(jsonData: model.jsonData())
        #expect(loaded.training.driftReference == drift)
        // What the server counts: the model's own predictions of its training rows give back the prediction shares.
        let table = try TestData.table("Servo.csv", target: "Class")
        var counts = DriftCounts(reference: drift)
        drift.count(table, predictions: try loaded.predict(table), into: &counts)
        #expect(drift.prediction.shares == counts.prediction.map { Double($0) / Double(table.rowCount) })
    }

    @Test func aClassifierReferenceHasEveryClass() throws {
        let model = try TrainedModel.train(TestData.table("Glass.csv", target: "Type"), spec: TrainingSpec(target: "Type", algorithm: .named("logistic"), folds: 0))
        let drift = try #require(model.training.driftReference)
        #expect(drift.prediction.levels == model.classes)
        #expect(abs(drift.prediction.shares.reduce(0, +) - 1) < 1e-12)
    }

    @Test func aFileWithoutTheReferenceLoadsWithout() throws {
        let model = try TrainedModel.train(TestData.table("Servo.csv", target: "Class"), spec: TrainingSpec(target: "Class", folds: 0))
        var document = try JSONSerialization.jsonObject(with: model.jsonData()) as! [String: Any]
        var training = document["training"] as! [String: Any]
        #expect(training["drift_reference"] != nil)
        training["drift_reference"] = nil
        document["training"] = training
        let loaded = try TrainedModel(jsonData: JSONSerialization.data(withJSONObject: document))
        #expect(loaded.training.driftReference == nil)
    }

    @Test func aReferenceThatCountingWouldMisreadIsRefused() throws {
        let model = try TrainedModel.train(TestData.table("Servo.csv", target: "Class"), spec: TrainingSpec(target: "Class", folds: 0))
        // Motor (0) is categorical, Pgain (2) numeric.
        let changes: [(inout [[String: Any]]) -> Void] = [
            { $0[0]["shares"] = [0.5, 0.5] },
            { $0[2]["edges"] = Array(($0[2]["edges"] as! [Double]).reversed()) },
            { $0[0]["levels"] = ($0[0]["levels"] as! [String]).map { _ in "A" } },
            { $0[2]["shares"] = ($0[2]["shares"] as! [Double]).enumerated().map { $0.offset == 0 ? -1 : $0.element } },
            { $0[2]["levels"] = ["A"] },
        ]
        for change in changes {
            var document = try JSONSerialization.jsonObject(with: model.jsonData()) as! [String: Any]
            var training = document["training"] as! [String: Any]
            var drift = training["drift_reference"] as! [String: Any]
            var features = drift["features"] as! [[String: Any]]
            change(&features)
            drift["features"] = features
            training["drift_reference"] = drift
            document["training"] = training
            let error = try #require(throws: TestbedError.self) { try TrainedModel(jsonData: JSONSerialization.data(withJSONObject: document)) }
            #expect(error.code == .invalidModelFile)
        }
    }
}

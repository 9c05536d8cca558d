import Foundation
import Testing
@testable import InferenceCore

@Suite("k nearest neighbours")
struct NeighborsTests {
    struct NeighborsCase: Decodable, CustomTestStringConvertible {
        var dataset: String
        var target: String
        var exclude: [String]
        var task: String
        var k: Int
        var train_rows: Int
        var classes: [String]
        var output: [Double]
        var testDescription: String { "k=\(k) on \(dataset)" }
    }

    static let cases = (try? TestData.fixture("knn", as: NeighborsCase.self)) ?? []

    @Test func fixturesArePresent() { #expect(Self.cases.count == 4) }

    /// Rows whose k-th and (k+1)-th neighbours are at distinct distances have one right answer
    /// and must equal scikit-learn's exactly (to rounding); at a tie either library may pick either
    /// neighbour, so those rows are only counted.
    @Test("Held-out predictions equal scikit-learn's wherever the neighbourhood is unambiguous", arguments: cases)
    func againstScikitLearn(_ reference: NeighborsCase) throws {
        let prepared = try PreparedData(TestData.table(reference.dataset, target: reference.target),
                                        spec: TrainingSpec(target: reference.target, algorithm: .named("knn"), excludedColumns: Set(reference.exclude)))
        let trainRows = Array(0..<reference.train_rows), testRows = Array(reference.train_rows..<prepared.table.rowCount)
        let (preprocessor, fitted) = try prepared.fit(rows: trainRows, parameters: ["k": Double(reference.k)], seed: 0)
        let model = try #require(fitted as? NeighborsModel)
        let x = try preprocessor.transform(prepared.table.selectingRows(testRows))
        var output = model.predict(x)
        if reference.task == "classification" {
            // scikit-learn's columns are the classes seen in the training rows; ours are every class
            // of the target, those absent from training at probability 0.
            let classes = prepared.target.classes
            let absent = classes.indices.filter { !reference.classes.contains(classes[$0]) }
            #expect(absent.allSatisfy { column in output.column(column).allSatisfy { $0 == 0 } })
            let kept = reference.classes.map { classes.firstIndex(of: $0)! }
            output = Matrix((0..<output.rows).map { row in kept.map { output[row, $0] } })
        }
        #expect(output.storage.count == reference.output.count)
        let width = output.columns
        var unambiguous = Set<Int>()
        let extended = try NeighborsModel(model.points, Target(task: .regression, values: model.targets), k: reference.k + 1)
        extended.forEachNeighbourhood(of: x) { row, neighbours in
            let (kth, next) = (neighbours[reference.k - 1].distance, neighbours[reference.k].distance)
            if next - kth > 1e-9 * max(next, 1) { unambiguous.insert(row) }
        }
        #expect(Double(unambiguous.count) >= 0.9 * Double(x.rows), "only \(unambiguous.count) of \(x.rows) rows are unambiguous")
        for row in unambiguous.sorted() {
            let ours = Array(output.storage[row * width ..< (row + 1) * width])
            let theirs = Array(reference.output[row * width ..< (row + 1) * width])
            #expect(maxRelativeError(ours, theirs) < 1e-12, "row \(row)")
        }
    }

    @Test func kLargerThanTheTrainingSetIsRefused() throws {
        let design = try TestData.design("Glass.csv", target: "Type", exclude: [])
        #expect(throws: TestbedError(.invalidParameter, "knn: k == 500, must be <= the number of training rows (214)")) {
            try KNearestNeighbors.algorithm.fit(design.matrix, design.target, parameters: ["k": 500])
        }
        #expect(throws: TestbedError(.invalidParameter, "knn: k == 2.5, must be a whole number >= 1 and <= 10000")) {
            try KNearestNeighbors.algorithm.resolve(["k": 2.5])
        }
    }

    /// The squared norms worked out when a model is read are the ones training worked out: a
    /// saved model's neighbourhoods and predictions are the same bit for bit.
    @Test func aSavedModelFindsTheSameNeighbourhoods() throws {
        let design = try TestData.design("Glass.csv", target: "Type", exclude: [])
        let model = try NeighborsModel(design.matrix, design.target, k: 5)
        let read = try JSONDecoder().decode(NeighborsModel.self, from: JSONEncoder().encode(model))
        #expect(read == model)
        #expect(read.predict(design.matrix).storage.map(\.bitPattern) == model.predict(design.matrix).storage.map(\.bitPattern))
    }

    /// A query far out (1e200 overflows its squared norm) is infinitely far from every training
    /// row: the first k rows are its neighbours, as in the exported ONNX graph (`TopK` keeps the
    /// lower index on equal distances), not none.
    @Test func aQueryAtAnInfiniteDistanceStillHasKNeighbours() throws {
        let design = try TestData.design("Servo.csv", target: "Class", exclude: [])
        let model = try NeighborsModel(design.matrix, design.target, k: 3)
        var query = design.matrix.selectingRows([0])
        query[0, 0] = 1e200
        var found: [Int] = []
        model.forEachNeighbourhood(of: query) { _, neighbours in found = neighbours.map(\.index) }
        #expect(found == [0, 1, 2])
        #expect(model.predict(query)[0, 0] == (design.target.values[0] + design.target.values[1] + design.target.values[2]) / 3)
    }

    /// A matrix of no columns may claim any number of rows; a file claiming more rows than it has
    /// targets is refused before anything is sized by that number.
    @Test func aFileWhoseRowsAreNotItsTargetsIsRefused() {
        let json = #"{"k":1,"points":{"rows":1000000000000000000,"columns":0,"storage":[]},"targets":[1],"class_count":0}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(NeighborsModel.self, from: Data(json.utf8)) }
    }
}

import Foundation
import Testing
@testable import InferenceCore

@Suite("Model files")
struct ModelFileTests {
    func servoModel() throws -> TrainedModel {
        try TrainedModel.train(TestData.table("Servo.csv", target: "Class"), spec: TrainingSpec(target: "Class", folds: 3),
                               sourceFile: "Servo.csv", sourceSHA256: FileDigest.sha256(ofFile: TestData.datasetPath("Servo.csv")))
    }

    func json(_ model: TrainedModel) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: model.jsonData()) as! [String: Any]
    }

    @Test func carriesTheDocumentedFields() throws {
        let document = try json(servoModel())
        for key in ["format", "format_version", "algorithm", "parameters", "task", "target", "classes", "features",
                    "preprocessing", "model", "training", "library_version", "created_at"] {
            #expect(document[key] != nil, "missing \(key)")
        }
        let training = try #require(document["training"] as? [String: Any])
        #expect((training["source_sha256"] as? String)?.count == 64)
        #expect((training["feature_summaries"] as? [Any])?.count == 4)
        let evaluation = try #require(training["evaluation"] as? [String: Any])
        #expect((evaluation["metrics"] as? [String: Double])?["rmse"] != nil)
    }

    func rewritten(_ change: (inout [String: Any]) -> Void) throws -> Data {
        var document = try json(servoModel())
        change(&document)
        return try JSONSerialization.data(withJSONObject: document)
    }

    @Test func newerFormatVersionIsRefused() throws {
        let data = try rewritten { $0["format_version"] = TrainedModel.formatVersion + 1 }
        #expect(throws: TestbedError(.invalidModelFile, "model file format version \(TrainedModel.formatVersion + 1) is newer than this testbed (\(TestbedVersion.current)) reads; this testbed reads versions 1 to \(TrainedModel.formatVersion)")) {
            try TrainedModel(jsonData: data)
        }
    }

    @Test func otherDocumentsAreRefused() throws {
        #expect(throws: TestbedError(.invalidModelFile, "this is not a testbed model file: its 'format' is missing, expected 'applied-ai-testbed-model'")) {
            try TrainedModel(jsonData: Data("{\"rows\": 3}".utf8))
        }
        let error = try #require(throws: TestbedError.self) { try TrainedModel(jsonData: Data("not json".utf8)) }
        #expect(error.code == .invalidModelFile)
    }

    @Test func missingFieldIsNamed() throws {
        let data = try rewritten { $0["target"] = nil }
        #expect(throws: TestbedError(.invalidModelFile, "the model file lacks 'target'")) { try TrainedModel(jsonData: data) }
    }

    @Test func treeWithInconsistentNodeArraysIsRefused() throws {
        let model = try TrainedModel.train(TestData.table("Servo.csv", target: "Class"),
                                           spec: TrainingSpec(target: "Class", algorithm: .named("gbdt"), parameters: ["max_iter": 3], folds: 0))
        var document = try json(model)
        var fitted = document["model"] as! [String: Any]
        var trees = fitted["trees"] as! [[String: Any]]
        trees[1]["left"] = (trees[1]["left"] as! [Any]).dropLast().map { $0 }
        fitted["trees"] = trees
        document["model"] = fitted
        let error = try #require(throws: TestbedError.self) { try TrainedModel(jsonData: JSONSerialization.data(withJSONObject: document)) }
        #expect(error.code == .invalidModelFile)
        #expect(error.message.hasSuffix("a tree's node arrays differ in length or point outside the tree"))
    }

    /// Model files the fuzzer found crashing the loader or the first prediction after it
    /// (`Tests/Fuzz/crashes/modelfile-*`): each is now refused when it is loaded.
    @Test(arguments: try FileManager.default.contentsOfDirectory(atPath: Self.crashes).filter { $0.hasPrefix("modelfile-") }.sorted())
    func fuzzFindingsAreRefusedOnLoad(_ name: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.crashes + "/" + name))
        let error = try #require(throws: TestbedError.self) { try TrainedModel(jsonData: data) }
        #expect(error.code == .invalidModelFile)
    }

    static let crashes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/crashes").path

    @Test func aMatrixWhoseElementsDoNotFillItsShapeIsRefused() throws {
        for json in [#"{"rows": 2, "columns": 3, "storage": [1, 2, 3]}"#, #"{"rows": -1, "columns": -3, "storage": [1, 2, 3]}"#,
                     #"{"rows": 4611686018427387904, "columns": 4, "storage": []}"#] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(Matrix.self, from: Data(json.utf8)) }
        }
        let matrix = try JSONDecoder().decode(Matrix.self, from: Data(#"{"rows": 2, "columns": 2, "storage": [1, 2, 3, 4]}"#.utf8))
        #expect(matrix == Matrix([[1, 2], [3, 4]]))
        #expect(try JSONDecoder().decode(Matrix.self, from: JSONEncoder().encode(matrix)) == matrix)
    }

    @Test func unknownAlgorithmInFileIsRefused() throws {
        let data = try rewritten { $0["algorithm"] = "quantum" }
        let error = try #require(throws: TestbedError.self) { try TrainedModel(jsonData: data) }
        #expect(error.message.hasPrefix("unknown algorithm 'quantum'"))
    }

    @Test func predictionWarnsOutsideTheTrainingRange() throws {
        let model = try servoModel()
        let input = try TestData.table(csv: "Motor,Screw,Pgain,Vgain\nA,B,99,1\n", options: CSVReadOptions(textColumns: model.textColumns))
        let predictions = try model.predict(input)
        #expect(predictions.warnings[0] == ["Pgain: 99 is outside the training range [3, 6]"])
    }
}

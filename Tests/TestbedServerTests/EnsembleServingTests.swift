import Foundation
import InferenceCore
import Testing
@testable import TestbedServer

/// A model of the `ensemble` family served as any other: its card lists the members and weights,
/// the pilot API and the Open Inference Protocol answer its predictions, and the export refuses it.
@Suite("serving an ensemble", .serialized)
struct EnsembleServingTests {
    /// The pilot flow's rows, whose table is `table` below.
    static var rows: [[String: Any]] { PilotFlowTests.servoRows }

    /// ridge and gbdt on Servo, averaged 0.4 / 0.6, their out-of-fold predictions on 5 folds.
    static func servoEnsemble() throws -> TrainedModel {
        let table = try CSVReader(options: CSVReadOptions(textColumns: ["Class"])).read(file: ServerProcess.dataset("Servo.csv").path)
        let spec = TrainingSpec(target: "Class", seed: 4, folds: 5)
        let members = [(Candidate("ridge", ["alpha": 1]), 0.4), (Candidate("gbdt", ["max_iter": 40, "min_samples_leaf": 5]), 0.6)]
        let outOfFold = try members.map { candidate, _ in
            var candidateSpec = spec
            (candidateSpec.algorithm, candidateSpec.parameters) = (.named(candidate.algorithm), candidate.parameters)
            let prepared = try PreparedData(table, spec: candidateSpec)
            return try prepared.outOfFoldPredictions(parameters: prepared.algorithm.resolve(candidate.parameters), seed: spec.seed)
        }
        return try TrainedModel.ensemble(of: members.map { (candidate: $0.0, weight: $0.1) }, outOfFold: outOfFold, table: table, spec: spec)
    }

    @Test func theCardPredictionsAndExportOfAnEnsemble() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("testbed-models-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = try Self.servoEnsemble()
        try model.save(to: directory + "/servo-ensemble.json")
        let server = try ServerProcess(arguments: ["--models-dir", directory])
        let key = try await server.createTenant("ensembles")

        let card = try await server.send(.GET, "/api/v1/models/servo-ensemble", key: key).object
        #expect(card["algorithm"] as? String == "ensemble" && card["explainable"] as? Bool == true)
        let members = try #require(card["ensemble"] as? [[String: Any]], "\(card)")
        #expect(members.map { $0["algorithm"] as? String } == ["gbdt", "ridge"])
        #expect(members.map { $0["weight"] as? Double } == [0.6, 0.4])
        #expect(members.map { $0["title"] as? String } == ["Gradient-boosted trees", "Ridge regression (linear)"])
        #expect((card["exports"] as? [String: Any])?.isEmpty == true)

        // The pilot API: the ensemble's own predictions, with reasons that add up.
        let table = DataTable(columns: [
            Column(name: "Motor", values: .text(codes: [0, 1, 2], levels: ["E", "B", "C"])),
            Column(name: "Screw", values: .text(codes: [0, 1, 2], levels: ["E", "D", "A"])),
            Column(name: "Pgain", values: .numeric([5, 6, 3])), Column(name: "Vgain", values: .numeric([4, 5, 2])),
        ])
        let expected = try model.predict(table).values
        let predicted = try await server.send(.POST, "/api/v1/models/servo-ensemble/predict", key: key,
                                              json: ["rows": Self.rows, "explain": true, "top": 4])
        #expect(predicted.status == 200, "\(predicted.text)")
        let answers = try #require(predicted.object["predictions"] as? [[String: Any]])
        let values = answers.compactMap { $0["prediction"] as? Double }
        #expect(values.count == 3 && zip(values, expected).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) }, "\(values) against \(expected)")
        for answer in answers {
            let reasons = try #require(answer["contributions"] as? [[String: Any]])
            let total = (answer["base_value"] as? Double ?? .nan) + reasons.compactMap { $0["contribution"] as? Double }.reduce(0, +)
            #expect(abs(total - (answer["prediction"] as? Double ?? 0)) < 1e-9)
        }

        // The Open Inference Protocol: the same numbers, and the conformal interval.
        let inputs: [[String: Any]] = [
            ["name": "Motor", "shape": [3], "datatype": "BYTES", "data": Self.rows.map { $0["Motor"]! }],
            ["name": "Screw", "shape": [3], "datatype": "BYTES", "data": Self.rows.map { $0["Screw"]! }],
            ["name": "Pgain", "shape": [3], "datatype": "FP64", "data": Self.rows.map { $0["Pgain"]! }],
            ["name": "Vgain", "shape": [3], "datatype": "FP64", "data": Self.rows.map { $0["Vgain"]! }],
        ]
        let inferred = try await server.send(.POST, "/v2/models/servo-ensemble/infer", key: key, json: ["inputs": inputs])
        #expect(inferred.status == 200, "\(inferred.text)")
        let outputs = try #require(inferred.object["outputs"] as? [[String: Any]])
        #expect(outputs.map { $0["name"] as? String } == ["predict", "predict_interval"])
        #expect((outputs[0]["data"] as? [Double]) == values)

        // The export names the family it refuses, with a status the OpenAPI document lists.
        let checker = AnswerChecker(document: try OpenAPITests.document())
        for template in ["/api/v1/models/{name}/export", "/api/v1/models/{name}/versions/{version}/export"] {
            let path = template.replacingOccurrences(of: "{name}", with: "servo-ensemble").replacingOccurrences(of: "{version}", with: "1")
            let export = try await server.send(.GET, path + "?format=onnx", key: key)
            #expect(export.status == 422 && export.error.contains("models of the family 'ensemble' cannot be exported to ONNX"), "\(export.text)")
            checker.check(export, "GET", template, sourceLocation: #_sourceLocation)
        }
    }

    /// A new version of a name whose serving version is an ensemble is compared with the
    /// ensemble's recipe on the new version's folds: the members cross-validated and averaged.
    @Test func aServingEnsembleIsComparedOnTheNewVersionsFolds() throws {
        let model = try Self.servoEnsemble()
        let table = try CSVReader(options: CSVReadOptions(textColumns: ["Class"])).read(file: ServerProcess.dataset("Servo.csv").path)
        let members = try #require(model.ensemble).members.map { TrainingRequest.Member(algorithm: $0.algorithm, parameters: $0.parameters, weight: $0.weight) }
        let request = TrainingRequest(datasetPath: "", sourceName: "Servo.csv", sourceSHA256: "", target: "Class", task: nil, algorithm: .named("ridge"),
                                      folds: 5, seed: 4, split: SplitRequest(), coverage: 0.9, timeBudgetSeconds: 60,
                                      baseline: .init(version: 3, algorithm: "ensemble", parameters: [:], members: members))
        let plan = try #require(model.training.evaluation?.validation)
        let comparison = try #require(try WorkerTrainCommand.compare(request, table: table, plan: plan, progress: { _ in }))
        #expect(comparison.version == 3 && comparison.algorithm == "ensemble" && comparison.folds == 5)
        #expect(comparison.metrics == model.training.evaluation?.metrics)
    }
}

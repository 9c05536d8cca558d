import Foundation
import Testing
@testable import InferenceCore

/// An ensemble's model file: a member that cannot be loaded makes the whole file refused.
@Suite("Ensemble model files")
struct EnsembleFileTests {
    /// An ensemble of ridge (0.4) and gbdt (0.6) on Servo, as a file.
    static let file: Data = {
        let data = try! EnsembleData("Servo.csv", target: "Class", families: ["ridge", "gbdt"])
        return try! data.ensemble(["ridge": 0.4, "gbdt": 0.6]).jsonData()
    }()

    static var document: [String: Any] { try! JSONSerialization.jsonObject(with: file) as! [String: Any] }

    /// The ensemble's file with `change` made to its members.
    func loading(_ change: (inout [[String: Any]]) -> Void) throws -> TrainedModel {
        var document = Self.document
        var ensemble = document["ensemble"] as! [String: Any]
        var members = ensemble["members"] as! [[String: Any]]
        change(&members)
        ensemble["members"] = members
        document["ensemble"] = ensemble
        return try TrainedModel(jsonData: JSONSerialization.data(withJSONObject: document))
    }

    func refusal(_ change: (inout [[String: Any]]) -> Void) throws -> String {
        let error = try #require(throws: TestbedError.self) { try loading(change) }
        #expect(error.code == .invalidModelFile)
        return error.message
    }

    @Test func theUnchangedFileLoads() throws {
        let model = try loading { _ in }
        #expect(model.ensemble?.members.map(\.algorithm) == ["gbdt", "ridge"])
        #expect(model.ensemble?.members.map(\.weight) == [0.6, 0.4])
    }

    @Test func aMemberThatCannotBeLoadedIsNamed() throws {
        let prefix = "ensemble member 2 cannot be loaded, so neither can the ensemble: "
        #expect(try refusal { $0[1]["algorithm"] = "xgboost" }.hasPrefix(prefix + "unknown algorithm 'xgboost'; known algorithms: linear, "))
        #expect(try refusal { $0[1]["algorithm"] = "ensemble" } == prefix + "an ensemble cannot be a member of an ensemble")
        #expect(try refusal { $0[1].removeValue(forKey: "weight") }.hasPrefix(prefix + "it lacks '"))
        #expect(try refusal { $0[1].removeValue(forKey: "preprocessing") }.hasPrefix(prefix))
        #expect(try refusal { $0[1]["model"] = ["coefficients": "none"] }.hasPrefix(prefix))
        // A ridge member's weights that do not fill their shape.
        let message = try refusal { members in
            var model = members[1]["model"] as! [String: Any]
            var coefficients = model["coefficients"] as! [String: Any]
            coefficients["storage"] = [1.0]
            model["coefficients"] = coefficients
            members[1]["model"] = model
        }
        #expect(message.hasPrefix(prefix), "\(message)")
    }

    @Test func membersThatDoNotFitTheFileAreRefused() throws {
        #expect(try refusal { $0 = [] } == "the model file is inconsistent: an ensemble has no members")
        #expect(try refusal { $0[0]["weight"] = 0.7 } == "the model file is inconsistent: the ensemble's weights sum to 1.1, not 1")
        #expect(try refusal { $0[1]["weight"] = -0.4 } == "the model file is inconsistent: ensemble member 2 (ridge) has the weight -0.4; weights must be > 0 and <= 1")
        #expect(try refusal { members in
            var preprocessing = members[1]["preprocessing"] as! [String: Any]
            preprocessing["steps"] = Array((preprocessing["steps"] as! [Any]).reversed())
            members[1]["preprocessing"] = preprocessing
        } == "the model file is inconsistent: ensemble member 2 (ridge)'s preprocessing does not read the model's features, once each and in their order")
    }

    @Test func anEnsembleWithoutMembersIsRefused() throws {
        var document = Self.document
        document.removeValue(forKey: "ensemble")
        #expect(throws: TestbedError(.invalidModelFile, "the model file lacks 'ensemble'")) {
            try TrainedModel(jsonData: JSONSerialization.data(withJSONObject: document))
        }
    }

    static let seeds = TestData.repositoryRoot.appendingPathComponent("Tests/Fuzz/corpus/modelfile").path

    /// The fuzzing seeds of ensembles, made of other seeds' models: they load, predict the
    /// weighted average of those models, and explain (or refuse to) as their members allow.
    @Test func theFuzzSeedsAreTheWeightedAverageOfTheirMembersFiles() throws {
        let table = try TestData.table("Servo.csv", target: "Class")
        for (seed, members, explainable) in [
            ("ensemble-regression-mlp.json", [("ridge-regression-5.json", 0.5), ("random_forest-regression-7.json", 0.3), ("mlp-regression-8.json", 0.2)], false),
            ("ensemble-regression-explainable.json", [("random_forest-regression-7.json", 0.625), ("linear-regression-4.json", 0.375)], true),
        ] {
            let model = try TrainedModel.load(from: "\(Self.seeds)/\(seed)")
            let predictions = try model.predict(table)
            var expected = [Double](repeating: 0, count: table.rowCount)
            for (file, weight) in members {
                let values = try TrainedModel.load(from: "\(Self.seeds)/\(file)").predict(table).values
                for row in expected.indices { expected[row] += weight * values[row] }
            }
            #expect(maxRelativeError(predictions.values, expected) <= 1e-12, "\(seed)")
            #expect(model.isExplainable == explainable, "\(seed)")
            if explainable {
                let explanation = try model.explain(table, predictions: predictions)
                let totals = (0..<table.rowCount).map { explanation.base[$0] + explanation.contributions.row($0).reduce(0, +) }
                #expect(maxRelativeError(totals, predictions.values) <= 1e-9)
            } else {
                #expect(model.explanationRefusal?.contains("its member mlp has none") == true)
            }
        }
    }
}

import Foundation
import Testing

@Suite("testbed export")
struct ExportCommandTests {
    @Test(arguments: ["ridge", "gbdt", "knn"])
    func writesAnONNXFile(_ algorithm: String) throws {
        let model = Testbed.temporaryPath("servo-\(algorithm).json"), onnx = Testbed.temporaryPath("servo-\(algorithm).onnx")
        defer { for path in [model, onnx] { try? FileManager.default.removeItem(atPath: path) } }
        let train = try Testbed.run(["train", "--data", Testbed.dataset("Servo.csv"), "--target", "Class", "--algorithm", algorithm,
                                     "--folds", "0", "--out", model])
        #expect(train.status == 0, "\(train.stderr)")
        let export = try Testbed.run(["export", "--model", model, "--format", "onnx", "--out", onnx])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("as onnx") && export.stdout.contains(onnx))
        let bytes = try #require(FileManager.default.contents(atPath: onnx))
        // ir_version (field 1, a varint) = 10 comes first; the inputs carry the column names.
        #expect(Array(bytes.prefix(2)) == [0x08, 0x0A])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(["Motor", "Screw", "Pgain", "Vgain", "predict"].allSatisfy(text.contains))
    }

    @Test func refusesAnUnknownFormatAndAMissingModel() throws {
        let out = Testbed.temporaryPath("never.onnx")
        let unknown = try Testbed.run(["export", "--model", Testbed.dataset("Servo.csv"), "--format", "pmml", "--out", out])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("unknown export format 'pmml'; known formats: onnx"))
        let missing = try Testbed.run(["export", "--model", "/no/such/model.json", "--out", out])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read the model file '/no/such/model.json'"))
        let notAModel = try Testbed.run(["export", "--model", Testbed.dataset("Servo.csv"), "--out", out])
        #expect(notAModel.status == 1 && notAModel.stderr.contains("error:"))
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

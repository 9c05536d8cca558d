import Foundation
import SwiftProtobuf
import Testing
@testable import InferenceCore

/// The ONNX export of every family: the bytes decode as an ONNX model with the inputs, outputs,
/// operator sets and metadata `docs/onnx-export.md` promises. (That the graph computes our
/// numbers is checked with ONNX Runtime by scripts/clients/onnx-check.sh.)
@Suite("ONNX export")
struct ONNXExportTests {
    static let cases = ModelContractTests.cases

    func exported(_ model: TrainedModel) throws -> Onnx_ModelProto {
        let bytes = try ExportFormat.onnx.export(model)
        return try Onnx_ModelProto(serializedBytes: bytes)
    }

    @Test("Decodes as an ONNX model with one input per feature and the V2 outputs", arguments: cases)
    func structure(_ algorithm: String, _ dataset: String, _ target: String) throws {
        let model = try ModelContractTests().trained(algorithm, dataset, target, folds: 3)
        let onnx = try exported(model)
        #expect(onnx.irVersion == 10)
        #expect(Set(onnx.opsetImport.map { "\($0.domain):\($0.version)" }) == [":21", "ai.onnx.ml:5"])
        #expect(onnx.producerName == "applied-ai-testbed")

        let graph = onnx.graph
        #expect(graph.input.map(\.name) == model.features.map(\.name))
        for (input, feature) in zip(graph.input, model.features) {
            let expected: Onnx_TensorProto.DataType = feature.kind == .numeric || feature.kind == .timestamp ? .double : .string
            #expect(input.type.tensorType.elemType == Int32(expected.rawValue), "\(feature.name)")
            #expect(input.type.tensorType.shape.dim.map { $0.dimParam.isEmpty ? "\($0.dimValue)" : $0.dimParam } == ["N", "1"])
        }
        let outputs = Dictionary(uniqueKeysWithValues: graph.output.map { ($0.name, $0.type.tensorType) })
        if model.task == .regression {
            #expect(Set(outputs.keys) == ["predict", "predict_interval"])  // trained with folds: calibrated
            #expect(outputs["predict"]?.elemType == Int32(Onnx_TensorProto.DataType.double.rawValue))
            #expect(outputs["predict_interval"]?.shape.dim.last?.dimValue == 2)
        } else {
            #expect(Set(outputs.keys) == ["predict", "predict_proba"])
            let labelType: Onnx_TensorProto.DataType = model.classes.allSatisfy { Int64($0) != nil } ? .int64 : .string
            #expect(outputs["predict"]?.elemType == Int32(labelType.rawValue))
            #expect(outputs["predict_proba"]?.shape.dim.last?.dimValue == Int64(model.classes.count))
        }

        // Every node's inputs are made before it (the graph is topologically sorted), and every output exists.
        var available = Set(graph.input.map(\.name) + graph.initializer.map(\.name))
        for node in graph.node {
            for input in node.input { #expect(available.contains(input), "\(node.opType) reads '\(input)' before it exists") }
            available.formUnion(node.output)
        }
        #expect(Set(outputs.keys).isSubset(of: available))

        let ops = Set(graph.node.map(\.opType))
        switch algorithm {
        case "gbdt", "random_forest": #expect(ops.contains("TreeEnsemble"))
        case "knn": #expect(ops.isSuperset(of: ["TopK", "MatMul", "Gather"]))
        case "mlp": #expect(ops.isSuperset(of: ["MatMul", "Relu"]))
        default: #expect(ops.contains("MatMul"))
        }
        let metadata = Dictionary(uniqueKeysWithValues: onnx.metadataProps.map { ($0.key, $0.value) })
        #expect(metadata["target"] == target)
        #expect(metadata["task"] == model.task.rawValue)
        #expect(metadata["algorithm"] == algorithm)
        #expect(metadata["testbed_version"] == TestbedVersion.current)
        let features = try JSONSerialization.jsonObject(with: Data(try #require(metadata["features"]).utf8)) as? [[String: String]]
        #expect(features?.map { $0["name"] } == model.features.map(\.name))
        if model.task == .classification {
            #expect(try JSONDecoder().decode([String].self, from: Data(try #require(metadata["classes"]).utf8)) == model.classes)
        }
    }

    /// A table with every kind of preprocessing: numbers with gaps, yes/no, a category, and times.
    static let mixedCSV = """
        when,flag,colour,x,y
        2020-01-06T08:00:00+02:00,yes,red,1.5,10
        2020-02-29T23:30:00Z,no,green,,12
        1969-12-31T23:59:59-05:00,,blue,2.5,9
        2021-07-04T12:00:00Z,yes,,3.5,15
        2022-12-31T06:15:00+05:30,no,red,4.5,11
        2023-03-01T18:45:00Z,yes,green,5.5,14
        2024-06-30T00:00:00Z,no,blue,6.5,13
        2025-11-11T11:11:11Z,yes,red,7.5,16
        """

    static func mixedModel(_ algorithm: String) throws -> TrainedModel {
        let table = try TestData.table(csv: mixedCSV, options: CSVReadOptions(textColumns: ["flag", "colour"]))
        return try TrainedModel.train(table, spec: TrainingSpec(target: "y", task: .regression, algorithm: .named(algorithm), parameters: algorithm == "knn" ? ["k": 3] : [:],
                                                                folds: 0, missingIndicators: true))
    }

    @Test("Numbers, yes/no, categories and times: each travels as its own input", arguments: ["ridge", "gbdt", "knn"])
    func everyKindOfFeature(_ algorithm: String) throws {
        let model = try Self.mixedModel(algorithm)
        #expect(model.features.map(\.kind) == [.timestamp, .boolean, .categorical, .numeric])
        let onnx = try exported(model)
        let types = onnx.graph.input.map { Onnx_TensorProto.DataType(rawValue: Int($0.type.tensorType.elemType)) }
        #expect(types == [.double, .string, .string, .double])
        let ops = Set(onnx.graph.node.map(\.opType))
        // Calendar arithmetic in integers, the boolean and one-hot by string equality, imputation by Where.
        #expect(ops.isSuperset(of: ["Floor", "Div", "Mod", "Equal", "Where", "IsNaN", "Concat"]))
    }

    @Test("Every spelling of yes in any case, and no more; a long spelling from an edited file is refused")
    func caseVariants() throws {
        let variants = try #require(ONNXGraph.caseVariants(of: "yes"))
        #expect(variants.count == 8)
        #expect(variants.contains("YeS") && variants.contains("yes") && variants.contains("YES"))
        #expect(Set(variants).count == variants.count)
        #expect(ONNXGraph.caseVariants(of: "false")?.count == 32)
        #expect(ONNXGraph.caseVariants(of: "1") == ["1"])
        #expect(ONNXGraph.caseVariants(of: String(repeating: "y", count: 64)) == nil)
    }

    @Test("A model file whose yes/no spelling is long is refused, not expanded into 2^n strings")
    func longBooleanSpellingIsRefused() throws {
        var model = try Self.mixedModel("ridge")
        guard case .numeric(var encoder) = model.preprocessor.steps[1] else { Issue.record("the flag is not a yes/no step"); return }
        let edited = #"{"false_text": "no", "true_text": "\#(String(repeating: "y", count: 60))"}"#
        encoder.boolean = try JSONDecoder().decode(BooleanLevels.self, from: Data(edited.utf8))
        model.preprocessor.steps[1] = .numeric(encoder)
        let error = try #require(throws: TestbedError.self) { try ExportFormat.onnx.export(model) }
        #expect(error.code == .invalidModelFile && error.message.contains("'flag'"))
    }

    @Test("Class labels travel as int64 only when every one is written as an integer")
    func integerLabels() {
        #expect(TrainedModel.integerLabels(["1", "2", "7"]) == [1, 2, 7])
        #expect(TrainedModel.integerLabels(["-1", "1"]) == [-1, 1])
        #expect(TrainedModel.integerLabels(["01", "2"]) == nil)
        #expect(TrainedModel.integerLabels(["+1", "-1"]) == nil)
        #expect(TrainedModel.integerLabels(["1.0", "2"]) == nil)
        #expect(TrainedModel.integerLabels(["yes", "no"]) == nil)
    }

    @Test("An unknown format is refused with the known ones named")
    func unknownFormat() throws {
        #expect(throws: TestbedError(.invalidParameter, "unknown export format 'pmml'; known formats: onnx")) {
            try ExportFormat.named("pmml")
        }
        #expect(try ExportFormat.named("onnx") == .onnx)
    }

    @Test("A feature named like an output is refused, not exported with clashing names")
    func featureNamedLikeAnOutput() throws {
        let csv = "predict,x,y\n1,2,3\n2,3,5\n3,1,4\n4,4,8\n5,2,7\n"
        let model = try TrainedModel.train(try TestData.table(csv: csv), spec: TrainingSpec(target: "y", folds: 0))
        let error = try #require(throws: TestbedError.self) { try ExportFormat.onnx.export(model) }
        #expect(error.code == .unsupported)
        #expect(error.message.contains("'predict'") && error.message.contains("rename the column"))
    }

    @Test("A category that is the empty string is refused: it could not be told from a missing value")
    func emptyCategoryIsRefused() throws {
        var model = try Self.mixedModel("ridge")
        guard case .categorical(var encoder) = model.preprocessor.steps[2] else { Issue.record("colour is not categorical"); return }
        encoder.categories.insert("", at: 0)
        model.preprocessor.steps[2] = .categorical(encoder)
        let error = try #require(throws: TestbedError.self) { try ExportFormat.onnx.export(model) }
        #expect(error.code == .unsupported && error.message.contains("'colour'"))
    }

    @Test("Names made inside the graph never collide with a column's name")
    func internalNamesAvoidColumns() throws {
        let csv = "Where_1,IsNaN_2,c_3,y\n1,2,3,3\n2,3,1,5\n3,1,2,4\n4,4,4,8\n5,2,2,7\n"
        let model = try TrainedModel.train(try TestData.table(csv: csv), spec: TrainingSpec(target: "y", folds: 0))
        let graph = try exported(model).graph
        let made = graph.node.flatMap(\.output) + graph.initializer.map(\.name)
        #expect(Set(made).count == made.count)
        #expect(Set(made).isDisjoint(with: ["Where_1", "IsNaN_2", "c_3"]))
    }

    @Test("The size estimate refuses a model beyond what a protobuf message holds")
    func sizeArithmeticDoesNotTrap() {
        #expect(CheckedSize.product(Int.max, 2) == nil)
        #expect(CheckedSize.product(-1, 2) == nil)
        #expect(CheckedSize.sum([Int.max, 1]) == nil)
        #expect(CheckedSize.sum([1, nil]) == nil)
        #expect(CheckedSize.product(3, 4, 8) == 96)
        #expect(ONNXTreeEnsemble.estimatedBytes(nodes: Int.max / 2, copies: 7) == nil)
    }
}

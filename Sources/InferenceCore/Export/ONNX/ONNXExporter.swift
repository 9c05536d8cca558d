import Foundation
import SwiftProtobuf

/// Writes a ``TrainedModel`` as an ONNX model that computes what ``TrainedModel/predict(_:missingColumns:)``
/// computes: the preprocessing and the model, one graph input per feature column, outputs named
/// as the Open Inference Protocol outputs (`predict`, `predict_proba`, `predict_interval`).
///
/// See `docs/onnx-export.md` for the inputs, outputs, operator sets and what is refused.
public struct ONNXExporter {
    /// The IR version written: 10 is the first with operator set 21 and `ai.onnx.ml` 5.
    public static let irVersion: Int64 = 10
    /// The standard operator set.
    public static let opsetVersion: Int64 = 21
    /// The `ai.onnx.ml` operator set: 5 brings `TreeEnsemble`, which computes in double.
    public static let mlOpsetVersion: Int64 = 5
    /// The most bytes of constants and attributes a graph may hold: a protobuf message cannot
    /// exceed 2 GiB, and ONNX runtimes refuse larger ones without external data files.
    public static let maximumGraphBytes = 1 << 30

    /// The output names, as the V2 inference protocol names them.
    public enum Output: String, CaseIterable {
        case predict
        case predictProba = "predict_proba"
        case predictInterval = "predict_interval"
    }

    public let model: TrainedModel

    public init(_ model: TrainedModel) {
        self.model = model
    }

    /// The ONNX model as protobuf bytes.
    public func serializedBytes() throws -> [UInt8] {
        try modelProto().serializedBytes()
    }

    /// The ONNX model as a protobuf message.
    package func modelProto() throws -> Onnx_ModelProto {
        if let ensemble = model.ensemble {
            let members = ensemble.members.map(\.algorithm).joined(separator: ", ")
            throw TestbedError(.unsupported, "models of the family '\(Ensemble.familyName)' cannot be exported to ONNX: this one averages \(ensemble.members.count) models (\(members)), each with its own preprocessing, and the export writes one; train one of its members' families alone to export it")
        }
        guard let family = model.model as? any ONNXExportableModel else {
            throw TestbedError(.unsupported, "models of the family '\(model.algorithm)' cannot be exported to ONNX yet")
        }
        try checkNames()
        guard let bytes = family.estimatedGraphBytes, bytes <= Self.maximumGraphBytes else {
            throw TestbedError(.unsupported, "this \(model.algorithm) model is too large to export to ONNX: its graph would hold more than \(Self.maximumGraphBytes >> 20) MiB of constants")
        }
        var graph = ONNXGraph(reserved: Set(model.preprocessor.inputColumns + Output.allCases.map(\.rawValue)))
        let encoded = try graph.preprocess(model.preprocessor)
        let prediction = try family.appendPrediction(to: &graph, input: encoded)
        let outputs = try appendOutputs(prediction, to: &graph)
        guard graph.constantBytes <= Self.maximumGraphBytes else {
            throw TestbedError(.unsupported, "this \(model.algorithm) model is too large to export to ONNX: its graph holds \(graph.constantBytes >> 20) MiB of constants")
        }

        var proto = Onnx_GraphProto()
        proto.name = "testbed_\(model.algorithm)"
        proto.docString = "\(model.algorithm) \(model.task.rawValue) of '\(model.target)', exported by the Applied-AI Testbed \(TestbedVersion.current)"
        proto.input = inputs()
        proto.output = outputs
        proto.node = graph.nodes
        proto.initializer = graph.initializers

        var onnx = Onnx_ModelProto()
        onnx.irVersion = Self.irVersion
        onnx.opsetImport = [Self.opset("", Self.opsetVersion), Self.opset("ai.onnx.ml", Self.mlOpsetVersion)]
        onnx.producerName = "applied-ai-testbed"
        onnx.producerVersion = TestbedVersion.current
        onnx.domain = "org.applied-ai-testbed"
        onnx.modelVersion = 1
        onnx.docString = proto.docString
        onnx.graph = proto
        onnx.metadataProps = try ONNXMetadata(model: model, computesInFloat: family.computesInFloat).entries()
        return onnx
    }

    /// One input per feature column: numbers and times as double, text (categories, yes/no) as string, `[N, 1]`.
    private func inputs() -> [Onnx_ValueInfoProto] {
        model.features.map { feature in
            let (type, doc): (Onnx_TensorProto.DataType, String) = switch feature.kind {
            case .numeric: (.double, "a number; NaN when missing")
            case .boolean: (.string, "yes/no as written in training (any case); anything else, the empty string included, is missing")
            case .timestamp: (.double, "the time as seconds since 1970-01-01T00:00:00 on the clock where it was written (its UTC offset added); NaN when missing")
            default: (.string, "a category; the empty string when missing; an unknown category adds nothing")
            }
            return ONNXTensor.valueInfo(feature.name, type, shape: [nil, 1], doc: doc)
        }
    }

    /// Names the prediction: `predict` (and `predict_interval`) for regression, `predict` (the label)
    /// and `predict_proba` for classification.
    private func appendOutputs(_ prediction: String, to graph: inout ONNXGraph) throws -> [Onnx_ValueInfoProto] {
        switch model.task {
        case .regression:
            let values = graph.add("Reshape", [prediction, graph.constant(int64: [-1], hint: "shape")], output: Output.predict.rawValue)
            var outputs = [ONNXTensor.valueInfo(values, .double, shape: [nil], doc: "the predicted \(model.target)")]
            if let halfWidth = model.training.evaluation?.conformal?.halfWidth {
                let width = graph.scalar(halfWidth)
                graph.add("Concat", [graph.add("Sub", [prediction, width]), graph.add("Add", [prediction, width])],
                          [ONNXAttribute.int("axis", 1)], output: Output.predictInterval.rawValue)
                let coverage = model.training.evaluation!.conformal!.coverage
                outputs.append(ONNXTensor.valueInfo(Output.predictInterval.rawValue, .double, shape: [nil, 2],
                                                    doc: "lower and upper: the prediction ± \(halfWidth), which holds the actual value in \(coverage * 100)% of new rows"))
            }
            return outputs
        case .classification:
            graph.add("Identity", [prediction], output: Output.predictProba.rawValue)
            let best = graph.add("ArgMax", [prediction], [ONNXAttribute.int("axis", 1), ONNXAttribute.int("keepdims", 0), ONNXAttribute.int("select_last_index", 0)])
            let labels: String, type: Onnx_TensorProto.DataType
            if let integers = model.integerClasses {
                (labels, type) = (graph.constant(int64: integers, hint: "classes"), .int64)
            } else {
                (labels, type) = (graph.constant(strings: model.classes, hint: "classes"), .string)
            }
            graph.add("Gather", [labels, best], output: Output.predict.rawValue)
            return [ONNXTensor.valueInfo(Output.predict.rawValue, type, shape: [nil], doc: "the most probable class (the first on a tie)"),
                    ONNXTensor.valueInfo(Output.predictProba.rawValue, .double, shape: [nil, model.classes.count],
                                         doc: "the probability of each class, in the order of the metadata's 'classes'")]
        }
    }


    /// Refuses column names a graph cannot carry: empty, or one of the output names.
    private func checkNames() throws {
        for name in model.preprocessor.inputColumns {
            if name.isEmpty { throw TestbedError(.unsupported, "a feature column has no name, and an ONNX input needs one") }
            if Output(rawValue: name) != nil {
                throw TestbedError(.unsupported, "the feature column '\(name)' has the name of an output of the exported model (\(Output.allCases.map(\.rawValue).joined(separator: ", "))); rename the column and train again to export it")
            }
        }
    }

    private static func opset(_ domain: String, _ version: Int64) -> Onnx_OperatorSetIdProto {
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = domain
        opset.version = version
        return opset
    }
}

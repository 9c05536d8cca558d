import Foundation

/// What an exported model says about itself in `metadata_props`: enough to use it without the
/// testbed's model file. Lists are JSON arrays.
struct ONNXMetadata {
    let model: TrainedModel
    let computesInFloat: Bool

    struct Feature: Encodable {
        var name: String
        var kind: String
        /// How the input is sent: "double" or "string".
        var input: String
    }

    func entries() throws -> [Onnx_StringStringEntryProto] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        let features = model.features.map { feature in
            Feature(name: feature.name, kind: feature.kind.rawValue,
                    input: feature.kind == .numeric || feature.kind == .timestamp ? "double" : "string")
        }
        var pairs: [(String, String)] = [
            ("testbed_version", TestbedVersion.current),
            ("model_library_version", model.libraryVersion),
            ("algorithm", model.algorithm),
            ("task", model.task.rawValue),
            ("target", model.target),
            ("features", try json(features)),
            ("created_at", model.createdAt),
            ("precision", computesInFloat ? "float (some operators)" : "double"),
        ]
        if model.task == .classification { pairs.append(("classes", try json(model.classes))) }
        if let conformal = model.training.evaluation?.conformal, conformal.halfWidth != nil {
            pairs.append(("interval_coverage", "\(conformal.coverage)"))
        }
        if let sha = model.training.sourceSHA256 { pairs.append(("training_sha256", sha)) }
        return pairs.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
    }
}

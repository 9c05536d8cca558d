/// A file format a trained model can be exported to.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// ONNX (`.onnx`), for ONNX Runtime and other runtimes: see `docs/onnx-export.md`.
    case onnx

    /// The format called `name` (as `--format` and `?format=` spell it), or an error that lists the known ones.
    public static func named(_ name: String) throws -> ExportFormat {
        guard let format = ExportFormat(rawValue: name) else {
            throw TestbedError(.invalidParameter, "unknown export format '\(name.clipped())'; known formats: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return format
    }

    /// The file name extension, without the dot.
    public var fileExtension: String { rawValue }

    /// The file's bytes for `model`.
    public func export(_ model: TrainedModel) throws -> [UInt8] {
        switch self {
        case .onnx: return try ONNXExporter(model).serializedBytes()
        }
    }
}

import Foundation
import InferenceCore

extension InferenceProtocol.InferenceRequest {
    /// Reads a gRPC `ModelInferRequest`: each input's elements from its typed `contents`, or, when
    /// `raw_input_contents` is given, from the entry at the input's position (then one per input,
    /// as Triton requires). Sizes the client sent are checked before anything is sized by them:
    /// a raw entry must hold exactly the shape's elements, a BYTES length prefix must fit.
    init(grpc message: Inference_ModelInferRequest) throws {
        let raw = message.rawInputContents
        if !raw.isEmpty, raw.count != message.inputs.count {
            throw APIError.badRequest("raw_input_contents has \(raw.count) entr\(raw.count == 1 ? "y" : "ies") for \(message.inputs.count) input\(message.inputs.count == 1 ? "" : "s"); send one per input, in the order of the inputs, or none and each input's contents")
        }
        id = message.id.isEmpty ? nil : message.id
        inputs = try message.inputs.enumerated().map { index, input in
            // Int64 sizes are Int on every platform we build for; clamping keeps a 32-bit build from trapping.
            let shape = input.shape.map { Int(clamping: $0) }
            let values: P.TensorValues
            if raw.isEmpty {
                values = try TypedContents.values(input.contents, datatype: input.datatype, name: input.name)
            } else {
                if let field = TypedContents.Field.allCases.first(where: { $0.count(in: input.contents) > 0 }) {
                    throw APIError.badRequest("input '\(input.name.clipped())' has elements in contents.\(field.rawValue) and in raw_input_contents[\(index)]; send them one way")
                }
                let count = try P.elementCount(shape, input: input.name)
                values = try raw[index].withUnsafeBytes {
                    try RawTensorData.decode($0, datatype: input.datatype, count: count, name: input.name)
                }
            }
            return P.InputTensor(name: input.name, shape: shape, datatype: input.datatype, values: values)
        }
        binaryOutputs = try Self.flag("binary_data_output", in: message.parameters, field: "parameters") ?? !raw.isEmpty
        // An empty list asks for every output, as a missing one does.
        outputs = message.outputs.isEmpty ? nil : try message.outputs.enumerated().map { index, output in
            P.RequestedOutput(name: output.name, binary: try Self.flag("binary_data", in: output.parameters, field: "outputs[\(index)].parameters"))
        }
    }

    /// A `bool_param` among `parameters`; `nil` when absent. Others this server does not use
    /// (Triton's priority or timeout, content types) are accepted and ignored, as over REST.
    private static func flag(_ name: String, in parameters: [String: Inference_InferParameter], field: String) throws -> Bool? {
        guard let parameter = parameters[name] else { return nil }
        guard case .boolParam(let flag)? = parameter.parameterChoice else {
            throw APIError.badRequest("\(field).\(name): expected a bool_param (true or false)")
        }
        return flag
    }
}

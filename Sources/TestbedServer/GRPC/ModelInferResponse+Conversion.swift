import Foundation

extension Inference_ModelInferResponse {
    /// The endpoint's answer as a gRPC message, with every output's elements in
    /// `raw_output_contents` (little-endian, as the binary extension writes them) or every one in
    /// its typed `contents`: the protocol allows one form per response, not a mix.
    ///
    /// - Parameter raw: whether the outputs go raw. ``rawOutputs(for:)`` decides it from the request.
    init(_ response: InferenceProtocol.InferenceResponse, raw: Bool) {
        self.init()
        modelName = response.modelName
        modelVersion = response.modelVersion
        id = response.id ?? ""
        if let parameters = response.parameters { self.parameters = Self.parameters(parameters) }
        outputs = response.outputs.map { output in
            var tensor = Inference_ModelInferResponse.InferOutputTensor()
            tensor.name = output.name
            tensor.datatype = output.datatype
            tensor.shape = output.shape.map(Int64.init)
            if let parameters = output.parameters { tensor.parameters = Self.parameters(parameters) }
            if !raw { tensor.contents = TypedContents.contents(output.data) }
            return tensor
        }
        if raw { rawOutputContents = response.outputs.map { Data(RawTensorData.encode($0.data)) } }
    }

    /// Whether a request's outputs come back raw: when it asks (`binary_data_output`, or any
    /// requested output's `binary_data`), and otherwise in the form its inputs came in. tritonclient
    /// sends raw inputs and reads numbers only from `raw_output_contents`; KServe's client reads
    /// either form, and typed contents from a typed request.
    static func rawOutputs(for request: InferenceProtocol.InferenceRequest) -> Bool {
        request.binaryOutputs || (request.outputs ?? []).contains { $0.binary == true }
    }

    private static func parameters(_ parameters: [String: String]) -> [String: Inference_InferParameter] {
        parameters.mapValues { value in Inference_InferParameter.with { $0.stringParam = value } }
    }
}

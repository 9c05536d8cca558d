import Foundation
import Hummingbird
import NIOCore

extension InferenceProtocol.InferenceResponse: ResponseGenerator {
    /// JSON alone, or, when an output was asked for as binary, the JSON header followed by those
    /// outputs' raw bytes in order, with `Inference-Header-Content-Length` giving the header's size.
    /// Written by hand: on a single-row request, `JSONEncoder` would cost more than the model.
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var binary: [[UInt8]] = []
        var json = JSONWriter()
        json.raw("{\"model_name\":")
        json.string(modelName)
        json.raw(",\"model_version\":")
        json.string(modelVersion)
        if let id {
            json.raw(",\"id\":")
            json.string(id)
        }
        if let parameters { Self.write(parameters, to: &json) }
        json.raw(",\"outputs\":")
        json.array(outputs) { json, output in
            json.raw("{\"name\":")
            json.string(output.name)
            json.raw(",\"datatype\":")
            json.string(output.datatype)
            json.raw(",\"shape\":")
            json.array(output.shape) { $0.integer(Int64($1)) }
            if output.binary {
                let bytes = RawTensorData.encode(output.data)
                Self.write(output.parameters ?? [:], binaryDataSize: bytes.count, to: &json)
                binary.append(bytes)
            } else {
                if let parameters = output.parameters { Self.write(parameters, to: &json) }
                json.raw(",\"data\":")
                switch output.data {
                case .numbers(let values): json.array(values) { $0.number($1) }
                case .integers(let values): json.array(values) { $0.integer($1) }
                case .strings(let values): json.array(values) { $0.string($1) }
                case .booleans(let values): json.array(values) { writer, value in value ? writer.raw("true") : writer.raw("false") }
                }
            }
            json.raw("}")
        }
        json.raw("}")
        guard !binary.isEmpty else {
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
        }
        var body = ByteBuffer()
        body.reserveCapacity(json.bytes.count + binary.reduce(0) { $0 + $1.count })
        body.writeBytes(json.bytes)
        for bytes in binary { body.writeBytes(bytes) }
        return Response(status: .ok,
                        headers: [.contentType: "application/octet-stream", .inferenceHeaderContentLength: String(json.bytes.count)],
                        body: .init(byteBuffer: body))
    }

    /// `,"parameters":{…}`, keys in order; `binary_data_size` last, as a number.
    private static func write(_ parameters: [String: String], binaryDataSize: Int? = nil, to json: inout JSONWriter) {
        json.raw(",\"parameters\":{")
        for (index, key) in parameters.keys.sorted().enumerated() {
            if index > 0 { json.raw(",") }
            json.string(key)
            json.raw(":")
            json.string(parameters[key]!)
        }
        if let binaryDataSize {
            if !parameters.isEmpty { json.raw(",") }
            json.raw("\"binary_data_size\":")
            json.integer(Int64(binaryDataSize))
        }
        json.raw("}")
    }
}

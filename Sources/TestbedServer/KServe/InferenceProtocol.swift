import Foundation
import Hummingbird
import InferenceCore

/// The JSON shapes of the Open Inference Protocol (KServe V2) REST API.
enum InferenceProtocol {
    static let numericTypes: Set<String> = ["UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64"]
    static let integerTypes: Set<String> = ["UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64"]
    static let allTypes = numericTypes.union(["BOOL", "BYTES"])

    struct InputTensor: Sendable {
        var name: String
        var shape: [Int]
        var datatype: String
        /// Flat, row-major: nested and flat `data` read the same.
        var data: [JSONCell]
    }

    struct InferenceRequest: Sendable {
        var id: String?
        var inputs: [InputTensor]
        /// `nil`: every output.
        var outputs: [String]?

        /// Reads a parsed request body, saying which field is wrong when one is.
        init(_ json: JSONNode) throws {
            guard case .object = json else { throw Self.error("the body", "an object with 'inputs'", json) }
            switch json["id"] {
            case nil, .null?: id = nil
            case .string(let text)?: id = text
            case let other?: throw Self.error("id", "a string", other)
            }
            guard case .array(let inputs)? = json["inputs"] else {
                throw APIError.badRequest("the body lacks 'inputs', an array of tensors such as {\"name\": \"input-0\", \"shape\": [1, 4], \"datatype\": \"FP64\", \"data\": [...]}")
            }
            self.inputs = try inputs.enumerated().map { try InputTensor(index: $0, $1) }
            switch json["outputs"] {
            case nil, .null?: outputs = nil
            case .array(let requested)?:
                outputs = try requested.enumerated().map { index, output in
                    guard case .string(let name)? = output["name"] else { throw Self.error("outputs[\(index)].name", "a string", output["name"] ?? .null) }
                    return name
                }
            case let other?: throw Self.error("outputs", "an array of {\"name\": …}", other)
            }
        }

        static func error(_ field: String, _ expected: String, _ found: JSONNode) -> APIError {
            APIError.badRequest("\(field): expected \(expected), found \(found.kind)")
        }
    }

    /// Output data: numbers or strings, always flat.    /// Output data: numbers or strings, always flat.
    enum OutputData: Sendable {
        case numbers([Double])
        case integers([Int64])
        case strings([String])
        case booleans([Bool])
    }

    struct OutputTensor: Sendable {
        var name: String
        var shape: [Int]
        var datatype: String
        var parameters: [String: String]?
        var data: OutputData
    }

    struct InferenceResponse: ResponseGenerator, Sendable {
        var modelName: String
        var modelVersion: String
        var id: String?
        /// `prediction_ids`: each row's id for feedback, comma-separated (absent with monitoring off).
        var parameters: [String: String]? = nil
        var outputs: [OutputTensor]

        /// Written by hand: on a single-row request, `JSONEncoder` would cost more than the model.
        func response(from request: Request, context: some RequestContext) throws -> Response {
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
                if let parameters = output.parameters { Self.write(parameters, to: &json) }
                json.raw(",\"data\":")
                switch output.data {
                case .numbers(let values): json.array(values) { $0.number($1) }
                case .integers(let values): json.array(values) { $0.integer($1) }
                case .strings(let values): json.array(values) { $0.string($1) }
                case .booleans(let values): json.array(values) { writer, value in value ? writer.raw("true") : writer.raw("false") }
                }
                json.raw("}")
            }
            json.raw("}")
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
        }

        /// `,"parameters":{…}`, keys in order.
        private static func write(_ parameters: [String: String], to json: inout JSONWriter) {
            json.raw(",\"parameters\":{")
            for (index, key) in parameters.keys.sorted().enumerated() {
                if index > 0 { json.raw(",") }
                json.string(key)
                json.raw(":")
                json.string(parameters[key]!)
            }
            json.raw("}")
        }
    }

    struct TensorMetadata: Encodable, Sendable {
        var name: String
        var datatype: String
        var shape: [Int]
    }

    struct ModelMetadata: ResponseEncodable, Sendable {
        var name: String
        var versions: [String]
        var platform: String
        var inputs: [TensorMetadata]
        var outputs: [TensorMetadata]
        var parameters: [String: String]
    }

    struct ServerMetadata: ResponseEncodable, Sendable {
        var name: String
        var version: String
        var extensions: [String]
    }

    struct ReadyState: ResponseEncodable, Sendable {
        var name: String?
        var ready: Bool
    }

    struct LiveState: ResponseEncodable, Sendable {
        var live: Bool
    }

    struct RepositoryEntry: ResponseEncodable, Sendable {
        var name: String
        var version: String
        var state: String
        var reason: String
    }

    struct Empty: ResponseEncodable, Sendable {}
}

extension InferenceProtocol.InputTensor {
    typealias P = InferenceProtocol

    init(index: Int, _ json: JSONNode) throws {
        let field = "inputs[\(index)]"
        guard case .string(let name)? = json["name"] else { throw P.InferenceRequest.error("\(field).name", "a string", json["name"] ?? .null) }
        let dimensions: [Double]
        switch json["shape"] {
        case .numbers(let sizes)? where sizes.allSatisfy({ $0.rounded() == $0 && abs($0) < 1e15 }): dimensions = sizes
        case .array(let sizes)? where sizes.isEmpty: dimensions = []
        case let other: throw P.InferenceRequest.error("\(field).shape", "an array of whole numbers", other ?? .null)
        }
        shape = dimensions.map { Int($0) }
        guard case .string(let datatype)? = json["datatype"] else { throw P.InferenceRequest.error("\(field).datatype", "a string such as \"FP64\"", json["datatype"] ?? .null) }
        guard let data = json["data"], data.isArray else { throw P.InferenceRequest.error("\(field).data", "an array", json["data"] ?? .null) }
        var flat: [JSONCell] = []
        try Self.flatten(data, into: &flat, field: field)
        (self.name, self.datatype, self.data) = (name, datatype, flat)
    }

    private static func flatten(_ node: JSONNode, into flat: inout [JSONCell], field: String) throws {
        switch node {
        case .array(let elements): for element in elements { try flatten(element, into: &flat, field: field) }
        case .numbers(let values): flat.append(contentsOf: values.lazy.map(JSONCell.number))
        case .number(let value): flat.append(.number(value))
        case .string(let text): flat.append(.string(text))
        case .bool(let flag): flat.append(.bool(flag))
        case .null: flat.append(.null)
        case .object: throw P.InferenceRequest.error("\(field).data", "numbers, strings or booleans", node)
        }
    }
}

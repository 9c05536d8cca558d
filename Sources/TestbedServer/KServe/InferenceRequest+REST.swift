import Foundation
import InferenceCore

extension InferenceProtocol.InferenceRequest {
    typealias P = InferenceProtocol

    /// Reads a REST body: JSON alone, or, when `headerLength` (the `Inference-Header-Content-Length`
    /// header) is given, a JSON header of that many bytes followed by the raw data of the inputs
    /// that give a `binary_data_size`, in the order of the inputs (Triton's binary data extension).
    init(body: UnsafeRawBufferPointer, headerLength: Int?) throws {
        guard let headerLength else {
            try self.init(JSONParser.parse(body), binary: nil)
            return
        }
        guard headerLength > 0 else {
            throw APIError.badRequest("Inference-Header-Content-Length is 0: a body of raw tensor data without its JSON header is not accepted here; send the JSON inference header first and give its length")
        }
        guard headerLength <= body.count else {
            throw APIError.badRequest("Inference-Header-Content-Length says the JSON header has \(headerLength) bytes, but the body has only \(body.count)")
        }
        try self.init(JSONParser.parse(UnsafeRawBufferPointer(rebasing: body[..<headerLength])),
                      binary: UnsafeRawBufferPointer(rebasing: body[headerLength...]))
    }

    /// Reads a parsed request; `binary` is what followed the JSON header (`nil`: a JSON-only body).
    /// Says which field is wrong when one is.
    init(_ json: JSONNode, binary: UnsafeRawBufferPointer? = nil) throws {
        guard case .object = json else { throw Self.error("the body", "an object with 'inputs'", json) }
        switch json["id"] {
        case nil, .null?: id = nil
        case .string(let text)?: id = text
        case let other?: throw Self.error("id", "a string", other)
        }
        let parameters = try Self.parameters(json, field: "parameters")
        binaryOutputs = try Self.flag("binary_data_output", in: parameters, field: "parameters") ?? false
        guard case .array(let inputs)? = json["inputs"] else {
            throw APIError.badRequest("the body lacks 'inputs', an array of tensors such as {\"name\": \"input-0\", \"shape\": [1, 4], \"datatype\": \"FP64\", \"data\": [...]}")
        }
        var remaining = binary
        self.inputs = try inputs.enumerated().map { try P.InputTensor(index: $0, $1, binary: &remaining) }
        if let remaining, !remaining.isEmpty {
            throw APIError.badRequest("\(remaining.count) bytes of binary data follow the inputs' binary_data_size; the body must end where the last binary input does")
        }
        switch json["outputs"] {
        case nil, .null?: outputs = nil
        case .array(let requested)?:
            outputs = try requested.enumerated().map { index, output in
                let field = "outputs[\(index)]"
                guard case .string(let name)? = output["name"] else { throw Self.error("\(field).name", "a string", output["name"] ?? .null) }
                let parameters = try Self.parameters(output, field: "\(field).parameters")
                return P.RequestedOutput(name: name, binary: try Self.flag("binary_data", in: parameters, field: "\(field).parameters"))
            }
        case let other?: throw Self.error("outputs", "an array of {\"name\": …}", other)
        }
    }

    static func error(_ field: String, _ expected: String, _ found: JSONNode) -> APIError {
        APIError.badRequest("\(field): expected \(expected), found \(found.kind)")
    }

    /// The `parameters` object of `node`, empty when absent. Parameters this server does not use
    /// (Triton's priority or timeout, MLServer's content types) are accepted and ignored.
    static func parameters(_ node: JSONNode, field: String) throws -> JSONNode {
        switch node["parameters"] {
        case nil, .null?: return .object([])
        case let parameters? where parameters.isObject: return parameters
        case let other?: throw error(field, "an object", other)
        }
    }

    static func flag(_ name: String, in parameters: JSONNode, field: String) throws -> Bool? {
        switch parameters[name] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?: throw error("\(field).\(name)", "true or false", other)
        }
    }
}

extension InferenceProtocol {
    /// The largest size a shape may give one dimension: far beyond any request's values, and small
    /// enough that a size read as a JSON double converts to `Int` exactly.
    static let largestDimension = 999_999_999_999_999

    /// The refusal of a datatype the protocol does not define (or this server does not read).
    static func unsupported(datatype: String, input name: String) -> APIError {
        APIError.badRequest("input '\(name.clipped())': datatype '\(datatype.clipped())' is not supported; expected one of \(allTypes.sorted().joined(separator: ", "))")
    }

    /// The number of elements a tensor of `shape` holds; refused when a size is negative or the
    /// product overflows (`reduce(1, *)` would trap on client-sent sizes).
    static func elementCount(_ shape: [Int], input name: String) throws -> Int {
        guard !shape.isEmpty, shape.allSatisfy({ $0 >= 0 }) else {
            throw APIError.badRequest("input '\(name.clipped())': shape \(shape) is not a tensor shape; expected non-negative sizes such as [1, 4]")
        }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw APIError.badRequest("input '\(name.clipped())': shape \(shape) holds more values than any request can carry")
            }
            count = product
        }
        return count
    }
}

extension InferenceProtocol.InputTensor {
    typealias P = InferenceProtocol

    /// Reads `inputs[index]`: its elements from `data`, or, with a `binary_data_size` parameter,
    /// from the front of `binary`, which is advanced past them.
    init(index: Int, _ json: JSONNode, binary: inout UnsafeRawBufferPointer?) throws {
        let field = "inputs[\(index)]"
        guard case .string(let name)? = json["name"] else { throw P.InferenceRequest.error("\(field).name", "a string", json["name"] ?? .null) }
        let dimensions: [Double]
        switch json["shape"] {
        case .numbers(let sizes)? where sizes.allSatisfy({ $0.rounded() == $0 && abs($0) <= Double(P.largestDimension) }): dimensions = sizes
        case .array(let sizes)? where sizes.isEmpty: dimensions = []
        case let other: throw P.InferenceRequest.error("\(field).shape", "an array of whole numbers up to \(P.largestDimension)", other ?? .null)
        }
        shape = dimensions.map { Int($0) }
        guard case .string(let datatype)? = json["datatype"] else { throw P.InferenceRequest.error("\(field).datatype", "a string such as \"FP64\"", json["datatype"] ?? .null) }
        (self.name, self.datatype) = (name, datatype)

        let parameters = try P.InferenceRequest.parameters(json, field: "\(field).parameters")
        switch parameters["binary_data_size"] {
        case nil, .null?:
            guard let data = json["data"], data.isArray else { throw P.InferenceRequest.error("\(field).data", "an array", json["data"] ?? .null) }
            var flat: [JSONCell] = []
            try Self.flatten(data, into: &flat, field: field)
            values = .cells(flat)
        case .number(let size)? where size >= 0 && size.rounded() == size:
            guard json["data"] == nil else {
                throw APIError.badRequest("input '\(name.clipped())' has both 'data' and a binary_data_size; send its elements one way")
            }
            guard let available = binary else {
                throw APIError.badRequest("input '\(name.clipped())' gives binary_data_size, but the request has no Inference-Header-Content-Length header saying where its JSON ends and the binary data begins")
            }
            guard size <= Double(available.count) else {
                throw APIError.badRequest("input '\(name.clipped())': binary_data_size is \(formatNumber(size)) bytes, but only \(available.count) bytes of binary data remain in the body")
            }
            let count = try P.elementCount(shape, input: name)
            let bytes = UnsafeRawBufferPointer(rebasing: available[..<Int(size)])
            values = try RawTensorData.decode(bytes, datatype: datatype, count: count, name: name)
            binary = UnsafeRawBufferPointer(rebasing: available[Int(size)...])
        case let other?:
            throw P.InferenceRequest.error("\(field).parameters.binary_data_size", "a whole number of bytes", other)
        }
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

import Foundation
import InferenceCore

/// Tensor data in gRPC's typed form (`InferTensorContents`): one repeated field per family of
/// datatypes, as KServe's definition assigns them. FP16 has no typed field; it travels only in
/// `raw_input_contents`.
enum TypedContents {
    typealias P = InferenceProtocol

    /// The repeated field that carries a datatype's elements, named as in the definition.
    enum Field: String, CaseIterable {
        case bool = "bool_contents", int = "int_contents", int64 = "int64_contents", uint = "uint_contents"
        case uint64 = "uint64_contents", fp32 = "fp32_contents", fp64 = "fp64_contents", bytes = "bytes_contents"

        init?(datatype: String) {
            switch datatype {
            case "BOOL": self = .bool
            case "INT8", "INT16", "INT32": self = .int
            case "INT64": self = .int64
            case "UINT8", "UINT16", "UINT32": self = .uint
            case "UINT64": self = .uint64
            case "FP32": self = .fp32
            case "FP64": self = .fp64
            case "BYTES": self = .bytes
            default: return nil
            }
        }

        /// How many elements `contents` holds in this field.
        func count(in contents: Inference_InferTensorContents) -> Int {
            switch self {
            case .bool: contents.boolContents.count
            case .int: contents.intContents.count
            case .int64: contents.int64Contents.count
            case .uint: contents.uintContents.count
            case .uint64: contents.uint64Contents.count
            case .fp32: contents.fp32Contents.count
            case .fp64: contents.fp64Contents.count
            case .bytes: contents.bytesContents.count
            }
        }
    }

    /// The elements of input `name` from its typed contents: numbers as doubles (BOOL as 0 and 1),
    /// BYTES as UTF-8 text. Refuses a datatype without a typed field, elements in a field that is
    /// not the datatype's, and integers outside the datatype's range. The count against the
    /// shape is checked where every input is (``TensorInput``).
    static func values(_ contents: Inference_InferTensorContents, datatype: String, name: String) throws -> P.TensorValues {
        let tensor = "input '\(name.clipped())'"
        guard let field = Field(datatype: datatype) else {
            if datatype == "FP16" {
                throw APIError.badRequest("\(tensor): FP16 has no typed contents in the protocol; send it in raw_input_contents")
            }
            throw P.unsupported(datatype: datatype, input: name)
        }
        if let other = Field.allCases.first(where: { $0 != field && $0.count(in: contents) > 0 }) {
            throw APIError.badRequest("\(tensor): a \(datatype) tensor's elements go in contents.\(field.rawValue), but \(other.count(in: contents)) are in contents.\(other.rawValue)")
        }
        switch field {
        case .bool: return .numbers(contents.boolContents.map { $0 ? 1 : 0 })
        case .int:
            let range: ClosedRange<Int32> = datatype == "INT8" ? -128...127 : datatype == "INT16" ? -32768...32767 : Int32.min...Int32.max
            if let index = contents.intContents.firstIndex(where: { !range.contains($0) }) {
                throw APIError.badRequest("\(tensor), element \(index): \(contents.intContents[index]) is outside the range of \(datatype)")
            }
            return .numbers(contents.intContents.map(Double.init))
        case .uint:
            let limit: UInt32 = datatype == "UINT8" ? 255 : datatype == "UINT16" ? 65535 : UInt32.max
            if let index = contents.uintContents.firstIndex(where: { $0 > limit }) {
                throw APIError.badRequest("\(tensor), element \(index): \(contents.uintContents[index]) is outside the range of \(datatype)")
            }
            return .numbers(contents.uintContents.map(Double.init))
        case .int64: return .numbers(contents.int64Contents.map(Double.init))
        case .uint64: return .numbers(contents.uint64Contents.map(Double.init))
        case .fp32: return .numbers(contents.fp32Contents.map(Double.init))
        case .fp64: return .numbers(contents.fp64Contents)
        case .bytes:
            return .texts(try contents.bytesContents.enumerated().map { index, bytes in
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw APIError.badRequest("\(tensor), element \(index): its bytes are not UTF-8 text")
                }
                return text
            })
        }
    }

    /// An output's elements in the field of its datatype (FP64, INT64, BYTES or BOOL).
    static func contents(_ data: P.OutputData) -> Inference_InferTensorContents {
        var contents = Inference_InferTensorContents()
        switch data {
        case .numbers(let values): contents.fp64Contents = values
        case .integers(let values): contents.int64Contents = values
        case .strings(let values): contents.bytesContents = values.map { Data($0.utf8) }
        case .booleans(let values): contents.boolContents = values
        }
        return contents
    }
}

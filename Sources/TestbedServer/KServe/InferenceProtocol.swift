import Foundation
import Hummingbird
import InferenceCore

/// The messages of the Open Inference Protocol (KServe V2), whatever carries them: REST with JSON
/// or binary tensor data, or gRPC.
enum InferenceProtocol {
    static let numericTypes: Set<String> = ["UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64"]
    static let integerTypes: Set<String> = ["UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64"]
    static let allTypes = numericTypes.union(["BOOL", "BYTES"])

    /// An input tensor's elements, flat and row-major, in the form they arrived.
    enum TensorValues: Sendable {
        /// From JSON `data`: each element as written, to be checked against the datatype.
        case cells([JSONCell])
        /// From raw bytes or typed gRPC contents: numbers already of the datatype (BOOL as 0 and 1).
        case numbers([Double])
        /// BYTES from raw bytes or typed gRPC contents.
        case texts([String])

        var count: Int {
            switch self {
            case .cells(let cells): cells.count
            case .numbers(let numbers): numbers.count
            case .texts(let texts): texts.count
            }
        }
    }

    struct InputTensor: Sendable {
        var name: String
        var shape: [Int]
        var datatype: String
        var values: TensorValues
    }

    struct RequestedOutput: Sendable {
        var name: String
        /// The output's own `binary_data` parameter; `nil` follows the request's `binary_data_output`.
        var binary: Bool?
    }

    struct InferenceRequest: Sendable {
        var id: String?
        var inputs: [InputTensor]
        /// `nil`: every output.
        var outputs: [RequestedOutput]?
        /// `binary_data_output`: outputs come back as raw bytes unless they say otherwise.
        var binaryOutputs = false
    }

    /// Output data: numbers or strings, always flat.
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
        /// Asked for as raw bytes (the binary extension) rather than JSON.
        var binary = false
    }

    struct InferenceResponse: Sendable {
        var modelName: String
        var modelVersion: String
        var id: String?
        /// `prediction_ids`: each row's id for feedback, comma-separated (absent with monitoring off).
        var parameters: [String: String]? = nil
        var outputs: [OutputTensor]
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

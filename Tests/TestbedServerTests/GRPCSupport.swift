import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SwiftProtobuf
@testable import TestbedServer

/// The generated client of `inference.GRPCInferenceService` over grpc-swift's HTTP/2 transport,
/// as a Swift user of the server would make it.
typealias InferenceClient = Inference_GRPCInferenceService.Client<HTTP2ClientTransport.Posix>

extension ServerProcess {
    /// Calls `body` with a client connected to this server's gRPC listener (started with `grpc: true`).
    func withGRPC<Result: Sendable>(_ body: (InferenceClient) async throws -> Result) async throws -> Result {
        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: grpcPort), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in
            try await body(InferenceClient(wrapping: client))
        }
    }
}

/// `authorization: Bearer <key>` metadata; none for `nil`.
func bearer(_ key: String?) -> Metadata {
    var metadata = Metadata()
    if let key { metadata.addString("Bearer \(key)", forKey: "authorization") }
    return metadata
}

/// The status an RPC failed with; `nil` when it succeeded.
func rpcError(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(code: .unknown, message: "not an RPC error: \(error)")
    }
}

/// A few rows of a bundled dataset, as text cells, and the tensors and `/predict` rows made of them.
struct SampleRows: Sendable {
    var columns: [String]
    var rows: [[String]]

    /// The first `count` rows of `datasets/<file>` without an empty cell (V2's numeric tensors have no missing value).
    init(_ file: String, count: Int) throws {
        let text = try String(contentsOf: ServerProcess.dataset(file), encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) } }
        columns = lines[0]
        rows = Array(lines.dropFirst().filter { $0.count == lines[0].count && !$0.contains("") }.prefix(count))
    }

    func column(_ name: String) -> [String] {
        let index = columns.firstIndex(of: name)!
        return rows.map { $0[index] }
    }

    /// `/predict`'s `rows`: numbers where the model reads numbers, text elsewhere.
    func predictRows(numeric: Set<String>, features: [String]) -> [[String: Any]] {
        rows.map { row in
            Dictionary(uniqueKeysWithValues: features.map { name -> (String, Any) in
                let cell = row[columns.firstIndex(of: name)!]
                return (name, numeric.contains(name) ? Double(cell)! as Any : cell as Any)
            })
        }
    }
}

/// How a test sends tensor elements over gRPC.
enum TensorForm: String, CaseIterable, Sendable {
    case typed, raw
}

extension Inference_ModelInferRequest {
    /// One tensor per column, FP64 or BYTES as the model's metadata says, in `form`.
    static func columns(model: String, sample: SampleRows, inputs: [(name: String, datatype: String)], form: TensorForm) -> Self {
        var request = Inference_ModelInferRequest()
        request.modelName = model
        for input in inputs {
            let cells = sample.column(input.name)
            var tensor = Inference_ModelInferRequest.InferInputTensor()
            tensor.name = input.name
            tensor.datatype = input.datatype
            tensor.shape = [Int64(cells.count)]
            switch (input.datatype, form) {
            case ("BYTES", .typed): tensor.contents.bytesContents = cells.map { Data($0.utf8) }
            case ("BYTES", .raw): request.rawInputContents.append(RawBytes.strings(cells))
            case (_, .typed): tensor.contents.fp64Contents = cells.map { Double($0)! }
            case (_, .raw): request.rawInputContents.append(RawBytes.doubles(cells.map { Double($0)! }))
            }
            request.inputs.append(tensor)
        }
        return request
    }

    /// One `[N, F]` FP64 tensor in feature order.
    static func matrix(model: String, sample: SampleRows, features: [String], form: TensorForm) -> Self {
        var request = Inference_ModelInferRequest()
        request.modelName = model
        let values = sample.rows.flatMap { row in features.map { Double(row[sample.columns.firstIndex(of: $0)!])! } }
        var tensor = Inference_ModelInferRequest.InferInputTensor()
        (tensor.name, tensor.datatype, tensor.shape) = ("input-0", "FP64", [Int64(sample.rows.count), Int64(features.count)])
        if form == .typed { tensor.contents.fp64Contents = values } else { request.rawInputContents = [RawBytes.doubles(values)] }
        request.inputs = [tensor]
        return request
    }
}

/// Raw tensor bytes as the protocol lays them out: little-endian, BYTES with 4-byte length prefixes.
enum RawBytes {
    static func doubles(_ values: [Double]) -> Data {
        var data = Data(capacity: values.count * 8)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    static func strings(_ values: [String]) -> Data {
        var data = Data()
        for value in values {
            withUnsafeBytes(of: UInt32(value.utf8.count).littleEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: value.utf8)
        }
        return data
    }

    static func readDoubles(_ data: Data) -> [Double] {
        stride(from: 0, to: data.count, by: 8).map { offset in
            Double(bitPattern: UInt64(littleEndian: data[data.startIndex + offset..<data.startIndex + offset + 8].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
        }
    }

    static func readInt64s(_ data: Data) -> [Int64] {
        readDoubles(data).map { Int64(bitPattern: $0.bitPattern) }
    }

    static func readStrings(_ data: Data) -> [String] {
        var (texts, offset) = ([String](), data.startIndex)
        while offset < data.endIndex {
            let length = Int(UInt32(littleEndian: data[offset..<offset + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }))
            texts.append(String(decoding: data[offset + 4..<offset + 4 + length], as: UTF8.self))
            offset += 4 + length
        }
        return texts
    }
}

extension Inference_ModelInferResponse {
    /// An output's elements as numbers, whichever form they came in (labels: their integers).
    func numbers(_ name: String) -> [Double]? {
        guard let index = outputs.firstIndex(where: { $0.name == name }) else { return nil }
        let output = outputs[index]
        if index < rawOutputContents.count {
            return output.datatype == "INT64" ? RawBytes.readInt64s(rawOutputContents[index]).map(Double.init) : RawBytes.readDoubles(rawOutputContents[index])
        }
        return output.datatype == "INT64" ? output.contents.int64Contents.map(Double.init) : output.contents.fp64Contents
    }

    /// An output's elements as text (labels of any datatype).
    func labels(_ name: String) -> [String]? {
        guard let index = outputs.firstIndex(where: { $0.name == name }) else { return nil }
        let output = outputs[index]
        switch output.datatype {
        case "BYTES":
            return index < rawOutputContents.count ? RawBytes.readStrings(rawOutputContents[index]) : output.contents.bytesContents.map { String(decoding: $0, as: UTF8.self) }
        case "INT64": return numbers(name)?.map { String(Int64($0)) }
        default: return numbers(name)?.map { "\($0)" }
        }
    }
}

/// `/predict`'s answer, decoded with `JSONDecoder`, which reads every number to the same double the
/// server wrote (swift-corelibs' `JSONSerialization` can be an ulp off, which a bit-for-bit check would see).
struct PredictAnswer: Decodable {
    struct Row: Decodable {
        var prediction: Label
        var probabilities: [String: Double]?
        var interval: [Double]?
    }

    /// A class label (text) or a regression value.
    enum Label: Decodable {
        case text(String)
        case number(Double)

        init(from decoder: any Swift.Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) { self = .text(text) } else { self = .number(try container.decode(Double.self)) }
        }

        var text: String {
            switch self {
            case .text(let text): text
            case .number(let value): "\(value)"
            }
        }

        var number: Double? {
            if case .number(let value) = self { value } else { nil }
        }
    }

    var predictions: [Row]
}

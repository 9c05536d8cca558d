import Foundation
import Testing

/// The Open Inference Protocol's binary tensor data extension over HTTP: the same rows sent as
/// JSON and as raw bytes, answered as JSON and as raw bytes, give the same numbers bit for bit.
@Suite("binary tensor data over HTTP", .serialized)
struct BinaryTensorTests {
    struct Demo: Sendable, CustomTestStringConvertible {
        var model: String
        var dataset: String
        var testDescription: String { model }
    }

    /// Every demonstration model: numeric and text inputs, a date, integer and text classes, regression.
    static let demos = [
        Demo(model: "glass-type", dataset: "Glass.csv"), Demo(model: "oil-type", dataset: "oils.csv"),
        Demo(model: "servo-rise-time", dataset: "Servo.csv"), Demo(model: "rail-ridership", dataset: "Chicago.csv"),
    ]

    /// One input tensor of a request, in both forms.
    struct Tensor {
        var name: String
        var datatype: String
        var shape: [Int]
        var numbers: [Double] = []
        var texts: [String] = []

        var json: [String: Any] {
            ["name": name, "datatype": datatype, "shape": shape, "data": datatype == "BYTES" ? texts as [Any] : numbers as [Any]]
        }
        var bytes: [UInt8] {
            if datatype == "BYTES" {
                return texts.flatMap { text in withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian, Array.init) + Array(text.utf8) }
            }
            return numbers.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        }
    }

    /// A request body in the extension's framing, and its `Inference-Header-Content-Length`.
    static func binaryBody(_ tensors: [Tensor], outputs: [[String: Any]]?, binaryOutputs: Bool) throws -> (Data, String) {
        var header: [String: Any] = ["inputs": tensors.map { tensor -> [String: Any] in
            var json = tensor.json
            json["data"] = nil
            json["parameters"] = ["binary_data_size": tensor.bytes.count]
            return json
        }]
        if let outputs { header["outputs"] = outputs }
        if binaryOutputs { header["parameters"] = ["binary_data_output": true] }
        let json = try JSONSerialization.data(withJSONObject: header)
        return (json + Data(tensors.flatMap(\.bytes)), String(json.count))
    }

    /// A response header read with `JSONDecoder`, which parses numbers exactly (Foundation's
    /// `JSONSerialization` on Linux is off by an ulp in about half of them).
    struct Header: Decodable {
        enum Element: Decodable {
            case number(Double), text(String), flag(Bool)
            init(from decoder: any Decoder) throws {
                let value = try decoder.singleValueContainer()
                if let number = try? value.decode(Double.self) { self = .number(number) }
                else if let text = try? value.decode(String.self) { self = .text(text) }
                else { self = .flag(try value.decode(Bool.self)) }
            }
            var hashable: AnyHashable {
                switch self {
                case .number(let number): AnyHashable(number.bitPattern)
                case .text(let text): AnyHashable(text)
                case .flag(let flag): AnyHashable(flag)
                }
            }
        }
        struct Size: Decodable {
            var binaryDataSize: Int?
            enum CodingKeys: String, CodingKey { case binaryDataSize = "binary_data_size" }
        }
        struct Output: Decodable {
            var name: String
            var datatype: String
            var data: [Element]?
            var parameters: Size?
        }
        var outputs: [Output]
    }

    /// Output name → its elements (numbers as their bits), read from the JSON `data` or from the
    /// raw bytes after the header.
    static func outputs(_ reply: ServerProcess.Reply) throws -> [String: [AnyHashable]] {
        let headerLength = reply.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init) ?? reply.body.count
        let header = try JSONDecoder().decode(Header.self, from: reply.body.prefix(headerLength))
        var offset = headerLength
        var result: [String: [AnyHashable]] = [:]
        for output in header.outputs {
            guard let size = output.parameters?.binaryDataSize else {
                result[output.name] = try #require(output.data).map(\.hashable)
                continue
            }
            #expect(output.data == nil)
            let bytes = [UInt8](reply.body[(reply.body.startIndex + offset)..<(reply.body.startIndex + offset + size)])
            offset += size
            result[output.name] = decode(bytes, datatype: output.datatype)
        }
        #expect(offset == reply.body.count, "the body ends where the last output does")
        return result
    }

    static func decode(_ bytes: [UInt8], datatype: String) -> [AnyHashable] {
        func load<T: FixedWidthInteger>(_: T.Type, _ index: Int) -> T {
            bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self)) }
        }
        switch datatype {
        case "FP64": return (0..<(bytes.count / 8)).map { AnyHashable(load(UInt64.self, $0)) }
        case "INT64": return (0..<(bytes.count / 8)).map { AnyHashable(Double(load(Int64.self, $0)).bitPattern) }
        case "BOOL": return bytes.map { AnyHashable($0 == 1) }
        default:
            var texts: [AnyHashable] = [], offset = 0
            while offset < bytes.count {
                let length = Int(bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) })
                texts.append(String(decoding: bytes[(offset + 4)..<(offset + 4 + length)], as: UTF8.self))
                offset += 4 + length
            }
            return texts
        }
    }

    /// The first `rows` complete rows of the model's inputs, one tensor per column.
    static func tensors(_ demo: Demo, metadata: [String: Any], rows: Int) throws -> [Tensor] {
        let inputs = try #require(metadata["inputs"] as? [[String: Any]])
        var tensors = try inputs.map { input in
            Tensor(name: try #require(input["name"] as? String), datatype: try #require(input["datatype"] as? String), shape: [rows, 1])
        }
        let cells = try ServerProcess.completeRows(demo.dataset, columns: tensors.map(\.name), count: rows)
        for row in cells {
            for (index, cell) in row.enumerated() {
                if tensors[index].datatype == "BYTES" { tensors[index].texts.append(cell) } else { tensors[index].numbers.append(try #require(Double(cell))) }
            }
        }
        let taken = cells.count
        #expect(taken == rows)
        return tensors
    }

    @Test(arguments: demos)
    func binaryInputsAndOutputsGiveTheJSONNumbersBitForBit(_ demo: Demo) async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("binary-\(demo.model)")
        let metadata = try await server.send(.GET, "/v2/models/\(demo.model)", key: key).object
        let tensors = try Self.tensors(demo, metadata: metadata, rows: 40)
        let path = "/v2/models/\(demo.model)/infer"

        let json = try await server.send(.POST, path, key: key, json: ["inputs": tensors.map(\.json)])
        #expect(json.status == 200, "\(json.text)")
        #expect(json.headers.first(name: "Inference-Header-Content-Length") == nil)
        let expected = try Self.outputs(json)
        let names = expected.keys.sorted()
        #expect(names.contains("predict") && expected["predict"]?.count == 40)

        // Binary in, every output binary (what tritonclient sends when no outputs are named).
        let (body, length) = try Self.binaryBody(tensors, outputs: nil, binaryOutputs: true)
        let binary = try await server.send(.POST, path, key: key, body: body, contentType: "application/octet-stream",
                                           headers: [("Inference-Header-Content-Length", length)])
        #expect(binary.status == 200, "\(binary.text)")
        #expect(binary.headers.first(name: "Content-Type") == "application/octet-stream")
        #expect(try Self.outputs(binary) == expected)

        // Binary in, each output as it asks: the first as JSON, the others as bytes.
        let asked = names.enumerated().map { ["name": $1, "parameters": ["binary_data": $0 > 0]] as [String: Any] }
        let (mixedBody, mixedLength) = try Self.binaryBody(tensors, outputs: asked, binaryOutputs: false)
        let mixed = try await server.send(.POST, path, key: key, body: mixedBody, contentType: "application/octet-stream",
                                          headers: [("Inference-Header-Content-Length", mixedLength)])
        #expect(mixed.status == 200, "\(mixed.text)")
        #expect(try Self.outputs(mixed) == expected)
        let mixedHeaderLength = try #require(mixed.headers.first(name: "Inference-Header-Content-Length").flatMap(Int.init))
        let header = try JSONDecoder().decode(Header.self, from: mixed.body.prefix(mixedHeaderLength))
        #expect(header.outputs.map { $0.data != nil } == names.indices.map { $0 == 0 })

        // JSON in, binary out.
        let jsonIn = try await server.send(.POST, path, key: key, json: ["inputs": tensors.map(\.json), "parameters": ["binary_data_output": true]])
        #expect(jsonIn.status == 200 && jsonIn.headers.first(name: "Inference-Header-Content-Length") != nil)
        #expect(try Self.outputs(jsonIn) == expected)
    }

    @Test func aMatrixTensorInBinaryMatchesJSON() async throws {
        let server = try ServerProcess()
        let key = try await server.createTenant("binary-matrix")
        let metadata = try await server.send(.GET, "/v2/models/glass-type", key: key).object
        let columns = try Self.tensors(Self.demos[0], metadata: metadata, rows: 25)
        let matrix = Tensor(name: "input-0", datatype: "FP64", shape: [25, columns.count],
                            numbers: (0..<25).flatMap { row in columns.map { $0.numbers[row] } })
        let json = try await server.send(.POST, "/v2/models/glass-type/infer", key: key, json: ["inputs": [matrix.json]])
        let (body, length) = try Self.binaryBody([matrix], outputs: nil, binaryOutputs: true)
        let binary = try await server.send(.POST, "/v2/models/glass-type/infer", key: key, body: body, contentType: "application/octet-stream",
                                           headers: [("Inference-Header-Content-Length", length)])
        #expect(json.status == 200 && binary.status == 200, "\(binary.text)")
        #expect(try Self.outputs(binary) == Self.outputs(json))
        // The same rows as one tensor per column: the same answer.
        let perColumn = try await server.send(.POST, "/v2/models/glass-type/infer", key: key, json: ["inputs": columns.map(\.json)])
        #expect(try Self.outputs(perColumn) == Self.outputs(json))
    }
}

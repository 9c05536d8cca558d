import Foundation

/// The Python peers (bench/peers/peer.py) in another process, asked one JSON command at a time so
/// that the harness can alternate them with its own work and compare under the same load.
final class Peer {
    private let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffer = Data()
    /// Library name to version, as the peer reports them.
    let versions: [String: String]

    /// The Python of `.venv-bench` (made by bench/peers/setup.sh), unless another is given.
    static func defaultPython() -> String? {
        let path = FileManager.default.currentDirectoryPath + "/.venv-bench/bin/python"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    init(python: String) throws {
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [FileManager.default.currentDirectoryPath + "/bench/peers/peer.py"]
        var environment = ProcessInfo.processInfo.environment
        // One thread on both sides: the testbed's models run on one (OpenBLAS included).
        for name in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] { environment[name] = "1" }
        process.environment = environment
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        versions = (try Self.send(["op": "versions"], input: input, output: output, buffer: &buffer) as? [String: String]) ?? [:]
    }

    /// Sends one command; the answer, or an error with the peer's own message.
    func call(_ command: [String: Any]) throws -> [String: Any] {
        let answer = try Self.send(command, input: input, output: output, buffer: &buffer)
        if let error = answer["error"] as? String { throw PeerError("peer \(command["op"] ?? ""): \(error)") }
        return answer
    }

    /// The `seconds` of an answer.
    func seconds(_ command: [String: Any]) throws -> Double {
        guard let seconds = try call(command)["seconds"] as? Double else { throw PeerError("peer \(command["op"] ?? ""): no seconds in the answer") }
        return seconds
    }

    private static func send(_ command: [String: Any], input: Pipe, output: Pipe, buffer: inout Data) throws -> [String: Any] {
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: command) + Data("\n".utf8))
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw PeerError("the peer stopped while answering \(command["op"] ?? "")") }
            buffer += chunk
        }
        let end = buffer.firstIndex(of: UInt8(ascii: "\n"))!
        let line = buffer[buffer.startIndex..<end]
        buffer = Data(buffer[(end + 1)...])
        return (try JSONSerialization.jsonObject(with: line) as? [String: Any]) ?? [:]
    }

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

struct PeerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

import ArgumentParser
import Foundation

/// A peer implementation in another process (bench/peers/*.py), asked to time one operation at a
/// time, so that the benchmark can alternate it with its own and compare them under the same load.
final class PeerProcess {
    private let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffer = Data()

    /// Starts `python script arguments…`.
    init(python: String, script: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    /// Sends one command and returns its one-line answer.
    func ask(_ command: String) throws -> String {
        input.fileHandleForWriting.write(Data((command + "\n").utf8))
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                throw ValidationError("the peer \(process.arguments?.first ?? "") stopped while answering '\(command)'")
            }
            buffer += chunk
        }
        let end = buffer.firstIndex(of: UInt8(ascii: "\n"))!
        let line = String(decoding: buffer[buffer.startIndex..<end], as: UTF8.self)
        buffer = Data(buffer[(end + 1)...])
        return line
    }

    /// The seconds the peer took for `command`.
    func seconds(_ command: String) throws -> Double {
        let answer = try ask(command)
        guard let seconds = Double(answer) else { throw ValidationError("the peer answered '\(answer)' to '\(command)', expected seconds") }
        return seconds
    }

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

import Foundation

/// Runs a program to its end and returns what it wrote to standard output; its standard error
/// goes where the harness's own goes. A non-zero exit is an error that carries the output.
func runToEnd(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw PeerError("\(executable) \(arguments.first ?? "") exited with status \(process.terminationStatus): \(text.suffix(500))")
    }
    return text
}

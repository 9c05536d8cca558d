import Foundation

/// MLServer with its scikit-learn runtime serving the equivalent of the glass-type model
/// (bench/peers/mlserver_model.py), on loopback, with MLServer's default settings.
final class MLServerProcess {
    private let process = Process()
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlserver-bench-\(UUID())")
    let port: Int
    let version: String

    /// Starts it from the peers' virtual environment and waits until it is ready (at most 120 s).
    init(python: String) throws {
        let bin = URL(fileURLWithPath: python).deletingLastPathComponent()
        let mlserver = bin.appendingPathComponent("mlserver")
        guard FileManager.default.isExecutableFile(atPath: mlserver.path) else { throw PeerError("MLServer is not installed beside \(python)") }
        port = 30_000 + Int(getpid() % 10_000)
        _ = try runToEnd(python, [FileManager.default.currentDirectoryPath + "/bench/peers/mlserver_model.py", directory.path, "\(port)", "\(port + 1)"])
        version = try runToEnd(python, ["-c", "import mlserver; print(mlserver.__version__)"]).trimmingCharacters(in: .whitespacesAndNewlines)
        process.executableURL = mlserver
        process.arguments = ["start", directory.path]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if (try? runToEnd("/usr/bin/curl", ["-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/v2/models/glass-type/ready"])) != nil { return }
            guard process.isRunning else { throw PeerError("MLServer stopped before it was ready") }
            Thread.sleep(forTimeInterval: 0.5)
        }
        stop()
        throw PeerError("MLServer was not ready within 120 s")
    }

    /// Resident memory of MLServer and its worker processes, in bytes.
    func residentBytes() -> Double {
        let children = (try? runToEnd("/usr/bin/pgrep", ["-P", "\(process.processIdentifier)"]))?.split(separator: "\n").compactMap { Int32($0) } ?? []
        return ([process.processIdentifier] + children).reduce(0) { $0 + Memory.resident(of: "\($1)").current }
    }

    func stop() {
        guard process.isRunning else { return }
        process.interrupt()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

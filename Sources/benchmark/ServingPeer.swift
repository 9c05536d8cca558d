import Foundation

/// A Python model server serving scikit-learn equivalents of the glass-type (random forest) and
/// oil-type (standardised logistic regression) demonstration models (bench/peers/peer_models.py)
/// on loopback, for the server suite to load in turn with ours on the same V2 requests.
final class ServingPeer {
    /// Which server, with which settings.
    enum Kind: CaseIterable {
        /// MLServer with its scikit-learn runtime at its defaults: one inference worker process
        /// beside the HTTP process (`parallel_workers` 1).
        case mlserverDefaults
        /// MLServer with `parallel_workers: 0`: inference in the HTTP process, the faster setting
        /// on a small machine.
        case mlserverInProcess
        /// A FastAPI app under uvicorn (one process, uvloop and httptools, no access log) around
        /// the same models: what a Python engineer would write by hand (bench/peers/fastapi_peer.py).
        case fastAPI

        /// How the report names its settings.
        var settings: String {
            switch self {
            case .mlserverDefaults: "default settings (parallel_workers 1: one inference worker process)"
            case .mlserverInProcess: "parallel_workers 0 (inference in the HTTP process)"
            case .fastAPI: "uvicorn, 1 process, uvloop + httptools, orjson, no access log"
            }
        }
    }

    let kind: Kind
    /// The name in the report: the server, its version and its settings in a few words.
    let name: String
    let port: Int
    private let process = Process()
    private let directory = FileManager.default.temporaryDirectory.appendingPathComponent("serving-peer-\(UUID())")

    /// Starts it from the peers' virtual environment and waits until both models are ready
    /// (at most 120 s). Each kind gets ports of its own.
    init(_ kind: Kind, python: String) throws {
        self.kind = kind
        let bin = URL(fileURLWithPath: python).deletingLastPathComponent()
        let peers = FileManager.default.currentDirectoryPath + "/bench/peers/"
        port = 30_000 + Int(getpid() % 10_000) + 2 * Kind.allCases.firstIndex(of: kind)!
        switch kind {
        case .mlserverDefaults, .mlserverInProcess:
            let mlserver = bin.appendingPathComponent("mlserver")
            guard FileManager.default.isExecutableFile(atPath: mlserver.path) else { throw PeerError("MLServer is not installed beside \(python)") }
            _ = try runToEnd(python, [peers + "mlserver_model.py", directory.path, "\(port)", "\(port + 1)"]
                             + (kind == .mlserverInProcess ? ["--parallel-workers", "0"] : []))
            let version = try runToEnd(python, ["-c", "import mlserver; print(mlserver.__version__)"]).trimmingCharacters(in: .whitespacesAndNewlines)
            name = "MLServer \(version)" + (kind == .mlserverInProcess ? " (0 workers)" : "")
            process.executableURL = mlserver
            process.arguments = ["start", directory.path]
        case .fastAPI:
            let version = try runToEnd(python, ["-c", "import fastapi, uvicorn; print(fastapi.__version__, uvicorn.__version__)"])
                .split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            name = "FastAPI \(version[0]) + uvicorn \(version[1])"
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [peers + "fastapi_peer.py", "\(port)"]
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        process.environment = environment
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let ready = ["glass-type", "oil-type"].allSatisfy { model in
                (try? runToEnd("/usr/bin/curl", ["-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/v2/models/\(model)/ready"])) != nil
            }
            if ready { return }
            guard process.isRunning else {
                try? FileManager.default.removeItem(at: directory)
                throw PeerError("\(name) stopped before it was ready")
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        stop()
        throw PeerError("\(name) was not ready within 120 s")
    }

    /// Resident memory of the server and its worker processes, in bytes.
    func residentBytes() -> Double {
        ([process.processIdentifier] + workers()).reduce(0) { $0 + Memory.resident(of: "\($1)").current }
    }

    /// The server's child processes as they are now.
    private func workers() -> [Int32] {
        (try? runToEnd("/usr/bin/pgrep", ["-P", "\(process.processIdentifier)"]))?.split(separator: "\n").compactMap { Int32($0) } ?? []
    }

    /// Interrupts it, and kills it with its workers if it has not stopped within 10 s (MLServer
    /// was seen to ignore SIGINT and SIGTERM after its worker had gone).
    func stop() {
        defer { try? FileManager.default.removeItem(at: directory) }
        guard process.isRunning else { return }
        process.interrupt()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning {
            // Its workers as they are now (a list taken earlier could name a reused process id).
            for pid in workers() + [process.processIdentifier] { kill(pid, SIGKILL) }
        }
        process.waitUntilExit()
    }
}

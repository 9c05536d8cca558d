import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import Testing

/// A `testbed serve` started as its users start it: the built executable, port 0, its own data
/// directory. Tests talk to it over real HTTP.
final class ServerProcess: @unchecked Sendable {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let executable: URL = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("testbed").path) && directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("testbed")
    }()

    static func dataset(_ name: String) -> URL { repositoryRoot.appendingPathComponent("datasets/\(name)") }

    /// The first `count` rows of a bundled dataset that have every one of `columns`, as text in the
    /// order of `columns` (quotes removed; a cell that is empty or `NA` makes a row incomplete).
    static func completeRows(_ file: String, columns: [String], count: Int) throws -> [[String]] {
        let text = try String(contentsOf: dataset(file), encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline).map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        let indices = try columns.map { column in
            guard let index = lines[0].firstIndex(of: column) else { throw ServerFailure("\(file) has no column '\(column)'") }
            return index
        }
        let rows = lines.dropFirst().lazy.map { line in indices.map { line[$0] } }.filter { !$0.contains { $0.isEmpty || $0 == "NA" } }
        return Array(rows.prefix(count))
    }

    let dataDirectory: String
    let adminKey: String?
    let arguments: [String]
    let environment: [String: String]
    private(set) var port = 0
    /// Whether the server is started with gRPC on (`--grpc-port 0`).
    let grpc: Bool
    /// The port gRPC listens on, read from its "gRPC listening on" line; 0 without gRPC.
    private(set) var grpcPort = 0
    private var process: Process?
    /// The write end stays open as long as this process lives; see ``start()``.
    private var lifeline: Pipe?
    private let log = LockedLog()
    /// Whether the data directory is one this made (and so removes when it is done).
    private let ownsDirectory: Bool

    /// - Parameters:
    ///   - dataDirectory: `nil` for a new temporary one, removed with this.
    ///   - adminKey: passed as `TESTBED_ADMIN_KEY`; `nil` lets the server create its own.
    ///   - arguments: extra `serve` options (limits).
    ///   - environment: extra environment variables for the server.
    ///   - grpc: also start the gRPC listener on a free port (``grpcPort``).
    init(dataDirectory: String? = nil, adminKey: String? = "admin-secret-for-tests", arguments: [String] = [],
         environment: [String: String] = [:], grpc: Bool = false) throws {
        self.grpc = grpc
        self.dataDirectory = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("testbed-\(UUID())").path
        ownsDirectory = dataDirectory == nil
        self.adminKey = adminKey
        self.arguments = arguments
        self.environment = environment
        try start()
    }

    deinit {
        if let process, process.isRunning { process.terminate(); process.waitUntilExit() }
        if ownsDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }

    /// Starts the executable and waits for the line that says where it listens.
    func start() throws {
        log.clear()
        let process = Process()
        process.executableURL = Self.executable
        // The server stops when this pipe closes: when the test process ends, however it ends.
        process.arguments = ["serve", "--port", "0", "--data-dir", dataDirectory, "--stop-when-input-closes",
                             "--models-dir", Self.repositoryRoot.appendingPathComponent("models").path]
            + (grpc ? ["--grpc-port", "0"] : []) + arguments
        let lifeline = Pipe()
        process.standardInput = lifeline
        self.lifeline = lifeline
        var environment = ProcessInfo.processInfo.environment
        environment["TESTBED_ADMIN_KEY"] = adminKey
        environment.merge(self.environment) { $1 }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        let log = self.log
        errors.fileHandleForReading.readabilityHandler = { handle in log.append(handle.availableData) }
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = log.text
            // Both listeners log their line once they listen; gRPC's may come first.
            if let match = text.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:(\d+)/) {
                if !grpc {
                    port = Int(match.1)!
                    return
                }
                if let grpcMatch = text.firstMatch(of: /gRPC listening on 127\.0\.0\.1:(\d+)/) {
                    (port, grpcPort) = (Int(match.1)!, Int(grpcMatch.1)!)
                    return
                }
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ServerFailure("the server did not start; its log:\n\(log.text)")
    }

    /// Sends SIGTERM and waits for the process to end; returns its exit status.
    @discardableResult
    func stop() -> Int32 {
        guard let process else { return -1 }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    /// Sends SIGTERM and returns at once: the server begins its graceful shutdown.
    func beginShutdown() {
        process?.terminate()
    }

    /// Waits for the process to end (after ``beginShutdown()``); returns its exit status.
    @discardableResult
    func waitForExit() -> Int32 {
        guard let process else { return -1 }
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    /// Ends the server with SIGKILL, as a power cut or the OOM killer would: no shutdown at all.
    func kill() {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    var logText: String { log.text }

    /// The running server's PID.
    var processIdentifier: Int32? { process?.processIdentifier }

    // MARK: HTTP

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: Data

        var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
        var error: String { object["error"] as? String ?? "" }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func send(_ method: HTTPMethod, _ path: String, key: String?, body: Data? = nil, contentType: String = "application/json",
              headers extra: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(bytes.readableBytesView))
    }

    func send(_ method: HTTPMethod, _ path: String, key: String?, json: Any) async throws -> Reply {
        try await send(method, path, key: key, body: try JSONSerialization.data(withJSONObject: json))
    }

    /// Creates a tenant with the admin key and returns its API key.
    func createTenant(_ id: String) async throws -> String {
        let reply = try await send(.POST, "/api/v1/tenants", key: adminKey, json: ["id": id])
        guard reply.status == 201, let key = reply.object["api_key"] as? String else {
            throw ServerFailure("creating tenant \(id) answered \(reply.status): \(reply.text)")
        }
        return key
    }

    /// Uploads a file from `datasets/` and returns the dataset's id.
    func upload(_ file: String, name: String, key: String) async throws -> String {
        try await upload(Data(contentsOf: Self.dataset(file)), name: name, key: key)
    }

    /// Uploads CSV text and returns the dataset's id.
    func uploadCSV(_ text: String, name: String, key: String) async throws -> String {
        try await upload(Data(text.utf8), name: name, key: key)
    }

    private func upload(_ bytes: Data, name: String, key: String) async throws -> String {
        let reply = try await send(.POST, "/api/v1/datasets?name=\(name)", key: key, body: bytes, contentType: "text/csv")
        guard reply.status == 201, let id = reply.object["id"] as? String else {
            throw ServerFailure("uploading \(name) answered \(reply.status): \(reply.text)")
        }
        return id
    }

    /// Polls a job until `done` holds for it (or two minutes pass); returns every state seen.
    func watchJob(_ id: String, key: String, until done: ([String: Any]) -> Bool) async throws -> [[String: Any]] {
        var seen: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let job = try await send(.GET, "/api/v1/jobs/\(id)", key: key).object
            seen.append(job)
            if done(job) { return seen }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ServerFailure("job \(id) did not get there in time; last seen: \(seen.last ?? [:])")
    }
}

struct ServerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The server's standard error, collected as it is written.
final class LockedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func clear() {
        lock.lock()
        data.removeAll()
        lock.unlock()
    }

    func append(_ chunk: Data) {
        lock.lock()
        data.append(chunk)
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}

extension Dictionary where Key == String, Value == Any {
    func number(_ key: String) -> Double? { (self[key] as? NSNumber)?.doubleValue }
}


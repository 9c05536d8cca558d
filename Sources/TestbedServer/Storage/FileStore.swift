import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The files under the data directory: uploaded tables and model files.
///
/// Every file is written under `tmp/` first, flushed to disk and then renamed into place, so a
/// crash leaves either the old state or the new one, never a half-written file.
struct FileStore: Sendable {
    let root: String
    /// Whether other servers (replicas) write under the same root: what looks left over may be
    /// another server's write in progress, so only what is older than ``sharedLeftoverAge`` is removed.
    var shared = false

    /// Old enough that no write in progress can own it.
    static let sharedLeftoverAge: TimeInterval = 86_400

    var datasetsDirectory: String { root + "/datasets" }
    var modelsDirectory: String { root + "/models" }
    var temporaryDirectory: String { root + "/tmp" }

    /// Creates the directories, removes what an interrupted write left in `tmp/`, and makes
    /// everything readable by the server's user only: directories 0700 and files 0600, also
    /// where an earlier version or an administrator left them more open (profiles and models
    /// hold the pilots' cell values).
    func prepare() throws {
        let manager = FileManager.default
        for directory in [root, datasetsDirectory, modelsDirectory, temporaryDirectory] {
            if !manager.fileExists(atPath: directory) {
                do {
                    try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                } catch {
                    throw StorageError("the storage root \(root) is not writable by this server (user \(getuid())): cannot create \(directory)")
                }
            }
            guard chmod(directory, 0o700) == 0 else { throw StorageError.failed("cannot restrict \(directory) to its owner") }
        }
        for leftover in (try? manager.contentsOfDirectory(atPath: temporaryDirectory)) ?? [] where isLeftover(temporaryDirectory + "/" + leftover) {
            try? manager.removeItem(atPath: temporaryDirectory + "/" + leftover)
        }
        // Written to now, not at the first upload: a root mounted read-only is said at start.
        let probe = temporaryDirectory + "/.write-check-\(getpid())"
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else {
            throw StorageError.failed("the storage root \(root) is not writable by this server (user \(getuid()))")
        }
        unlink(probe)
        for directory in [root, datasetsDirectory, modelsDirectory] {
            for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] {
                var status = stat()
                let path = directory + "/" + name
                if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_mode & 0o077 != 0 {
                    guard chmod(path, 0o600) == 0 else { throw StorageError.failed("cannot restrict \(path) to its owner") }
                }
            }
        }
    }

    /// Removes the stored files that no record names: written just before a crash that came
    /// before the record, or left by a deletion the crash interrupted. Returns how many.
    @discardableResult
    func removeUnrecorded(datasets: Set<String>, models: Set<String>) -> Int {
        var removed = 0
        for (directory, recorded) in [(datasetsDirectory, datasets), (modelsDirectory, models)] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where !recorded.contains(name) {
                if isLeftover(directory + "/" + name), unlink(directory + "/" + name) == 0 { removed += 1 }
            }
        }
        return removed
    }

    /// Whether a file nobody names may go: always for a server that owns its root; for replicas,
    /// once it is old enough that no write in progress can own it.
    private func isLeftover(_ path: String) -> Bool {
        guard shared else { return true }
        var status = stat()
        guard lstat(path, &status) == 0 else { return false }
        return Date().timeIntervalSince1970 - Double(status.st_mtim.tv_sec) > Self.sharedLeftoverAge
    }

    func datasetPath(_ fileName: String) -> String { datasetsDirectory + "/" + fileName }
    func modelPath(_ fileName: String) -> String { modelsDirectory + "/" + fileName }

    /// A new file under `tmp/`, open for writing.
    func temporaryFile() throws -> TemporaryFile {
        try TemporaryFile(path: temporaryDirectory + "/" + UUID().uuidString)
    }

    /// Writes `data` to `path` through a flushed temporary file.
    func writeAtomically(_ data: Data, to path: String) throws {
        let file = try temporaryFile()
        do {
            try data.withUnsafeBytes { try file.write(UnsafeRawBufferPointer($0)) }
            try file.commit(to: path)
        } catch {
            file.discard()
            throw error
        }
    }

    /// Removes a stored file; a file that is already gone is not an error.
    func remove(_ path: String) {
        unlink(path)
    }
}

/// A file being written under `tmp/`; ``commit(to:)`` moves it into place, ``discard()`` deletes it.
final class TemporaryFile: @unchecked Sendable {
    let path: String
    private var descriptor: Int32
    private(set) var byteCount = 0

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StorageError.failed("cannot create \(path)") }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw StorageError.failed("cannot write \(path)")
            }
            offset += written
        }
        byteCount += bytes.count
    }

    func write(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { try write($0) }
    }

    /// Flushes the file, renames it to `destination` and flushes the directory entry.
    func commit(to destination: String) throws {
        guard fsync(descriptor) == 0 else { throw StorageError.failed("cannot flush \(path)") }
        close(descriptor)
        descriptor = -1
        guard rename(path, destination) == 0 else { throw StorageError.failed("cannot move \(path) to \(destination)") }
        let directory = open((destination as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY)
        if directory >= 0 { fsync(directory); close(directory) }
    }

    func discard() {
        if descriptor >= 0 { close(descriptor); descriptor = -1 }
        unlink(path)
    }
}

/// The data directory could not be read or written: a server fault, not the client's.
struct StorageError: Error, CustomStringConvertible {
    let description: String
    /// The system's reason, when a call failed.
    let errorNumber: Int32?

    init(_ description: String, errorNumber: Int32? = nil) {
        self.description = description
        self.errorNumber = errorNumber
    }

    /// A failed call: `what` and the system's words for `errno`.
    static func failed(_ what: String, errorNumber: Int32 = errno) -> StorageError {
        StorageError("\(what): \(String(cString: strerror(errorNumber)))", errorNumber: errorNumber)
    }

    /// The file system is out of space (or of the user's quota).
    var isDiskFull: Bool { errorNumber == ENOSPC || errorNumber == EDQUOT }
}

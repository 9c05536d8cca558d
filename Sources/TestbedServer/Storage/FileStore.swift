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

    var datasetsDirectory: String { root + "/datasets" }
    var modelsDirectory: String { root + "/models" }
    var temporaryDirectory: String { root + "/tmp" }

    /// Creates the directories and removes what an interrupted write left in `tmp/`.
    func prepare() throws {
        let manager = FileManager.default
        // The pilots' data: readable by the server's user only.
        for directory in [root, datasetsDirectory, modelsDirectory, temporaryDirectory] where !manager.fileExists(atPath: directory) {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        for leftover in (try? manager.contentsOfDirectory(atPath: temporaryDirectory)) ?? [] {
            try? manager.removeItem(atPath: temporaryDirectory + "/" + leftover)
        }
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
        guard descriptor >= 0 else { throw StorageError("cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw StorageError("cannot write \(path): \(String(cString: strerror(errno)))")
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
        guard fsync(descriptor) == 0 else { throw StorageError("cannot flush \(path): \(String(cString: strerror(errno)))") }
        close(descriptor)
        descriptor = -1
        guard rename(path, destination) == 0 else { throw StorageError("cannot move \(path) to \(destination): \(String(cString: strerror(errno)))") }
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
    init(_ description: String) { self.description = description }
}

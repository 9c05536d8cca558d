import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a data directory, held for the life of the server.
///
/// Two servers on one directory would delete each other's uploads in progress and mark each
/// other's running jobs interrupted. The lock is a `flock` on `testbed.lock`, which the kernel
/// releases when the process ends however it ends, so a crash never leaves a stale lock. The
/// file holds the owner's PID so that a second server can say who has it.
final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Creates the directory (0700) when missing and takes the lock.
    /// - Throws: ``DataDirectoryInUse`` when another process holds it.
    init(directory: String) throws {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw StorageError.failed("cannot create the data directory \(directory)")
        }
        let path = directory + "/testbed.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StorageError.failed("cannot open \(path)") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var bytes = [UInt8](repeating: 0, count: 32)
            let count = pread(descriptor, &bytes, bytes.count, 0)
            close(descriptor)
            let owner = Int32(String(decoding: bytes.prefix(max(count, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            throw DataDirectoryInUse(directory: directory, ownerPID: owner)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.count, 0)
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}

/// Another server owns the data directory.
struct DataDirectoryInUse: Error, CustomStringConvertible {
    let directory: String
    let ownerPID: Int32?

    var description: String {
        let owner = ownerPID.map { "process \($0)" } ?? "another process"
        return "the data directory \(directory) is in use by another testbed server (\(owner)); one data directory serves one server: stop that one, or give this one its own --data-dir"
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the CSV reader takes its bytes from, a chunk at a time.
enum ByteSource {
    case file(path: String)
    case memory([UInt8])

    /// Opens the source for one pass.
    func open() throws -> ByteStream {
        switch self {
        case .memory(let bytes):
            return ByteStream(memory: bytes)
        case .file(let path):
            let descriptor = Glibc.open(path, O_RDONLY)
            guard descriptor >= 0 else {
                throw TestbedError(.io, "cannot open '\(path)': \(String(cString: strerror(errno)))")
            }
            var status = stat()
            guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
                close(descriptor)
                throw TestbedError(.io, "'\(path)' is not a regular file")
            }
            return ByteStream(descriptor: descriptor, size: Int(status.st_size))
        }
    }
}

/// One pass over a ``ByteSource``.
final class ByteStream {
    private let descriptor: Int32?
    private let memory: [UInt8]
    private var offset = 0
    /// The total number of bytes, when known in advance.
    let size: Int

    init(memory: [UInt8]) {
        self.descriptor = nil
        self.memory = memory
        self.size = memory.count
    }

    init(descriptor: Int32, size: Int) {
        self.descriptor = descriptor
        self.memory = []
        self.size = size
    }

    deinit {
        if let descriptor { close(descriptor) }
    }

    /// Reads `buffer.count` bytes from `offset` without moving the stream (several threads
    /// may read at once); returns how many there were before the end, `nil` on a read error.
    func read(at offset: Int, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard let descriptor else {
            let count = max(0, min(buffer.count, memory.count - offset))
            if count > 0 {
                memory.withUnsafeBufferPointer { source in
                    buffer.baseAddress!.update(from: source.baseAddress! + offset, count: count)
                }
            }
            return count
        }
        var total = 0
        while total < buffer.count {
            let count = pread(descriptor, buffer.baseAddress! + total, buffer.count - total, off_t(offset + total))
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            total += count
        }
        return total
    }

    /// Reads up to `buffer.count` bytes; returns 0 at the end.
    func read(into buffer: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        guard let descriptor else {
            let count = min(buffer.count, memory.count - offset)
            if count > 0 {
                memory.withUnsafeBufferPointer { source in
                    buffer.baseAddress!.update(from: source.baseAddress! + offset, count: count)
                }
            }
            offset += count
            return count
        }
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw TestbedError(.io, "reading failed: \(String(cString: strerror(errno)))") }
        }
    }
}

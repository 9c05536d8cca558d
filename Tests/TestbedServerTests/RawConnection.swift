import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection driven byte by byte, for clients no HTTP library would be: one that sends its
/// header a line at a time, one that never sends anything, one that keeps writing a body.
final class RawConnection {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard descriptor >= 0, connected == 0 else { throw ServerFailure("cannot connect to port \(port): \(String(cString: strerror(errno)))") }
        // Writes fail with EPIPE instead of killing the test process once the server has closed.
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(descriptor) }

    /// Sends `text`; `false` when the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        send(Array(text.utf8))
    }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        Glibc.send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) >= 0 || errno == EAGAIN
    }

    /// Sends all of `bytes`, waiting while the server reads; `false` when it has closed the connection.
    @discardableResult
    func sendAll(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Whatever has arrived within `seconds` (or as soon as `enough` says so), and whether the
    /// server has closed its side.
    func receive(waiting seconds: Double, until enough: ([UInt8]) -> Bool = { _ in false }) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && !enough(received) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return (received, true) }
            received += buffer.prefix(count)
        }
        return (received, false)
    }

    /// Until a whole answer has arrived: its header and as many body bytes as its Content-Length says.
    static let wholeAnswer: @Sendable ([UInt8]) -> Bool = { bytes in
        guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { return false }
        let header = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).lowercased()
        guard let length = header.firstMatch(of: /content-length: *(\d+)/).flatMap({ Int($0.1) }) else { return false }
        return bytes.count - end.upperBound >= length
    }

    /// Until a whole header has arrived: an answer's status line is then there, however busy the machine.
    static let header: @Sendable ([UInt8]) -> Bool = { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
}

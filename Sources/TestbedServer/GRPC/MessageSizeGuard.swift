import NIOCore
import NIOHPACK
import NIOHTTP2

/// Answers a gRPC message larger than `--max-request-bytes` with RESOURCE_EXHAUSTED and a message
/// that says so, from the message's 5-byte length prefix, before any of it is buffered.
///
/// grpc-swift's transport enforces the same limit itself, but answers it by resetting the stream:
/// the client sees UNAVAILABLE ("stream unexpectedly closed"), which KServe's client even retries.
/// This handler sits first in each HTTP/2 stream's pipeline (added through the transport's
/// stream callback), reads only the DATA frames' length prefixes and passes every frame on
/// unchanged until one declares too large a message; then it writes the gRPC status as
/// trailers (trailers-only, as gRPC answers a call it refuses at once), drops the rest of the
/// stream's frames and closes the stream, which leaves the connection serving other calls.
final class MessageSizeGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    let limit: Int
    /// Bytes of the current message's body still to come before the next length prefix.
    private var remaining = 0
    /// The bytes of a length prefix split across DATA frames.
    private var prefix: [UInt8] = []
    private var refused = false
    /// Whether the stream's response has begun: then the RPC answers for itself.
    private var responded = false

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        guard case .data(let frame) = unwrapInboundIn(data), case .byteBuffer(let buffer) = frame.data else {
            context.fireChannelRead(data)
            return
        }
        if let length = declaredTooLarge(buffer), !responded {
            refuse(context: context, length: length)
            return
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .headers = unwrapOutboundIn(data) { responded = true }
        context.write(data, promise: promise)
    }

    /// Walks the frame's bytes past message bodies to each length prefix; the first declared
    /// length over the limit, if any.
    private func declaredTooLarge(_ buffer: ByteBuffer) -> Int? {
        var view = buffer
        while view.readableBytes > 0 {
            if remaining > 0 {
                let skipped = min(remaining, view.readableBytes)
                view.moveReaderIndex(forwardBy: skipped)
                remaining -= skipped
                continue
            }
            prefix.append(view.readInteger(as: UInt8.self)!)
            guard prefix.count == 5 else { continue }
            // Byte 0 is the compression flag; bytes 1...4 the length, big-endian.
            let length = prefix[1...4].reduce(0) { $0 << 8 | Int($1) }
            prefix.removeAll(keepingCapacity: true)
            if length > limit { return length }
            remaining = length
        }
        return nil
    }

    private func refuse(context: ChannelHandlerContext, length: Int) {
        refused = true
        let message = "the message has \(length) bytes; this server accepts at most \(limit) (--max-request-bytes); send fewer rows per call"
        let trailers: HPACKHeaders = [":status": "200", "content-type": "application/grpc",
                                      "grpc-status": "\(8)", "grpc-message": Self.percentEncoded(message)]
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: trailers, endStream: true))), promise: nil)
        context.close(promise: nil)
    }

    /// `grpc-message` is percent-encoded: printable ASCII but `%` as is, every other byte as `%XX`.
    static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            if (0x20...0x7E).contains(byte) && byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return encoded
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

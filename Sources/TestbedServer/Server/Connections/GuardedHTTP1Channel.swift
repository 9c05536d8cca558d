import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 channel with this server's deadlines around it (see
/// ``ConnectionLimits``). Hummingbird's own idle timeout only counts time between complete
/// request parts, so a header sent a byte at a time, or a refused upload that the client keeps
/// writing, would hold the connection for ever.
struct GuardedHTTP1Channel: ServerChildChannel {
    let http1: HTTP1Channel
    let limits: ConnectionLimits

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        let deadlines = ConnectionDeadlines(limits: limits)
        let pipeline = channel.pipeline.syncOperations
        do {
            try pipeline.addHandler(ByteWatcher(deadlines), position: .first)
            // HTTP1Channel configures its pipeline synchronously, on this event loop, so its
            // handlers are there to position ours against as soon as `setup` returns.
            let value = http1.setup(channel: channel, logger: logger)
            try pipeline.addHandler(RequestWatcher(deadlines), position: .before(try pipeline.handler(type: HTTPConnectionStateHandler.self)))
            return value
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with this server's connection deadlines.
    static func guardedHTTP1(_ limits: ConnectionLimits) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            GuardedHTTP1Channel(http1: HTTP1Channel(responder: responder), limits: limits)
        }
    }
}

import NIOCore

/// Where one connection is in its request cycle, and the deadline that goes with it.
///
/// Shared by the two handlers of a connection (the byte watcher before the HTTP decoder and the
/// request watcher after it); both run on the connection's event loop, so no lock is needed.
final class ConnectionDeadlines {
    enum Stage: Equatable {
        /// Waiting for the next request; no byte of it has arrived.
        case idle
        /// Bytes of a request have arrived; its header is not complete.
        case readingHeader
        /// The header is in; the body is arriving.
        case readingBody
        /// The whole request is in; the server is answering (no deadline: the handler's work).
        case answering
        /// Answered before the body was read: the rest is discarded until the connection closes.
        case lingering
    }

    let limits: ConnectionLimits
    private(set) var stage = Stage.idle
    private var timer: Scheduled<Void>?

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    /// Moves to `stage` and arms its deadline, which closes the connection when it passes.
    func enter(_ stage: Stage, context: ChannelHandlerContext) {
        self.stage = stage
        timer?.cancel()
        timer = nil
        let timeout: TimeAmount
        switch stage {
        case .idle: timeout = limits.idleTimeout
        case .readingHeader: timeout = limits.headerTimeout
        case .readingBody: timeout = limits.bodyTimeout
        case .lingering: timeout = limits.lingerTimeout
        case .answering: return
        }
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    /// Body bytes arrived: the pause allowed before the next ones starts again.
    func bodyProgressed(context: ChannelHandlerContext) {
        if stage == .readingBody { enter(.readingBody, context: context) }
    }

    /// The request is not read to its end yet: an answer now is an answer before the body.
    var isReadingRequest: Bool { stage == .readingHeader || stage == .readingBody }

    func cancel() {
        timer?.cancel()
        timer = nil
    }
}

import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Sits before the HTTP decoder and sees raw bytes: the first byte of a request starts the
/// header deadline; body bytes restart the body deadline; bytes that arrive while lingering are
/// dropped unparsed.
final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let deadlines: ConnectionDeadlines

    init(_ deadlines: ConnectionDeadlines) {
        self.deadlines = deadlines
    }

    func channelActive(context: ChannelHandlerContext) {
        deadlines.enter(.idle, context: context)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { deadlines.enter(.idle, context: context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch deadlines.stage {
        case .lingering: return
        case .idle: deadlines.enter(.readingHeader, context: context)
        case .readingBody: deadlines.bodyProgressed(context: context)
        case .readingHeader, .answering: break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadlines.cancel()
        context.fireChannelInactive()
    }
}

/// Sits after the HTTP decoder and sees requests and answers: a complete header starts the
/// body deadline (and is answered `100 Continue` when it asks for that), a complete request stops the clock, and a finished answer starts the idle
/// deadline — or, when the request body was not read (a refusal) or the client asked to close,
/// ends the connection instead of leaving it half-closed.
///
/// Requests and answers are counted, so that an answer is matched with its own request: a
/// client that has the whole answer (its length known) may send its next request before the
/// answer's end has passed here, and that request's deadline must not be taken for the
/// answered one's (found by schemathesis: the next request's body was then dropped as if it
/// were the rest of a refused one).
final class RequestWatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart
    private let deadlines: ConnectionDeadlines
    /// Requests whose header, and whose end, were read; answers whose end was written.
    private var started = 0, ended = 0, answered = 0
    /// By request number: the client asked to close, or the answer came before the request was read.
    private var closeAfterAnswer: [Int: Bool] = [:]

    init(_ deadlines: ConnectionDeadlines) {
        self.deadlines = deadlines
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            started += 1
            closeAfterAnswer[started] = head.headerFields[.connection]?.lowercased() == "close"
            deadlines.enter(.readingBody, context: context)
            // curl and most HTTP libraries ask before sending a large body and wait a second for
            // the go-ahead when none comes. Written past this handler: it is no answer yet.
            if head.headerFields[.expect]?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
        case .body:
            break
        case .end:
            ended += 1
            deadlines.enter(.answering, context: context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The answer being written is to request `answered + 1`: is that one still being read?
        let current = answered + 1
        let readingCurrent = ended < current
        switch unwrapOutboundIn(data) {
        case .head(var head) where readingCurrent:
            // Answered before the body was read (a refusal): the connection ends after this
            // answer, and the client is told so, so that it does not send its next request on it.
            closeAfterAnswer[current] = true
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .head, .body:
            context.write(data, promise: promise)
        case .end:
            answered = current
            let close = closeAfterAnswer.removeValue(forKey: current) ?? false
            let written = promise ?? context.eventLoop.makePromise()
            context.write(data, promise: written)
            if readingCurrent {
                deadlines.enter(.lingering, context: context)
            } else if close {
                let channel = context.channel
                written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            } else if started == current {
                deadlines.enter(.idle, context: context)
            }
            // Otherwise the next request has begun, and its own deadline stands.
        }
    }
}

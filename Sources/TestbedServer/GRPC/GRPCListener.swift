import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The gRPC listener (the Open Inference Protocol over HTTP/2, plaintext) as a ServiceLifecycle
/// service: it listens until graceful shutdown, then stops accepting RPCs, lets the ones in
/// flight finish and returns.
struct GRPCListener: Service {
    let host: String
    /// 0 picks a free port; the one bound is logged.
    let port: Int
    let services: Services
    let eventLoopGroup: MultiThreadedEventLoopGroup
    let logger: Logger

    func run() async throws {
        let address = try Self.socketAddress(host: host, port: port)
        let transport = HTTP2ServerTransport.Posix(address: address, transportSecurity: .plaintext,
                                                   config: Self.transportConfig(services.configuration), eventLoopGroup: eventLoopGroup)
        let server = GRPCServer(transport: transport, services: [InferenceGRPCService(services: services)],
                                interceptors: [StatusInterceptor(logger: logger)])
        var listened = false
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    do {
                        try await server.serve()
                    } catch {
                        // The transport's error names the cause (an address in use); this says where.
                        throw GRPCListenerError(message: "gRPC cannot listen on \(host):\(port): \(error)")
                    }
                }
                // Fails when binding failed; serve() then throws the reason.
                guard let listening = try? await transport.listeningAddress else { return }
                listened = true
                let bound = listening.ipv4?.port ?? listening.ipv6?.port ?? port
                logger.notice("gRPC listening on \(host):\(bound)", metadata: ["grpc_port": "\(bound)"])
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
        guard listened else { throw GRPCListenerError(message: "gRPC cannot listen on \(host):\(port)") }
        logger.info("gRPC stopped")
    }

    /// Streams one connection may have open at once; a client that wants more waits for one to
    /// end (its own HTTP/2 stack queues them), so one connection cannot hold unbounded work.
    static let maxConcurrentStreams = 256

    /// The size limit is the HTTP body limit (`--max-request-bytes`): the largest message a
    /// client may send is the same whichever protocol it uses, refused from its length prefix
    /// before it is buffered (by ``MessageSizeGuard``, with a status that says so; the
    /// transport's own check, at the same size, stays as the backstop). A connection with no RPC for the HTTP idle timeout is closed, as an
    /// idle HTTP connection is. The flow-control window and frame size are larger than HTTP/2's
    /// defaults (64 KiB, 16 KiB): a 10,000-row batch (1.6 MB raw) would otherwise wait for a
    /// window update every 64 KiB; a stream's buffered bytes stay bounded by the message limit.
    static func transportConfig(_ configuration: ServerConfiguration) -> HTTP2ServerTransport.Posix.Config {
        .defaults { config in
            config.rpc.maxRequestPayloadSize = configuration.limits.maxRequestBytes
            config.connection.maxIdleTime = .nanoseconds(configuration.connections.idleTimeout.nanoseconds)
            config.http2.maxConcurrentStreams = maxConcurrentStreams
            config.http2.targetWindowSize = 4 << 20
            config.http2.maxFrameSize = 1 << 20
            let limit = configuration.limits.maxRequestBytes
            config.channelDebuggingCallbacks.onAcceptHTTP2Stream = { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(MessageSizeGuard(limit: limit), position: .first)
                }
            }
        }
    }

    /// The host as `--host` gives it (a name or an address literal) resolved to the address to bind.
    static func socketAddress(host: String, port: Int) throws -> GRPCNIOTransportCore.SocketAddress {
        let resolved: NIOCore.SocketAddress
        do {
            resolved = try NIOCore.SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw GRPCListenerError(message: "gRPC cannot listen on \(host):\(port): the host does not resolve (\(error))")
        }
        switch resolved {
        case .v6: return .ipv6(host: resolved.ipAddress ?? host, port: port)
        default: return .ipv4(host: resolved.ipAddress ?? host, port: port)
        }
    }
}

/// Why the gRPC listener could not start, in words for the operator.
struct GRPCListenerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

import NIOCore

/// How long a connection may take at each stage, and how many may be open at once. A client
/// that stalls — sending a header a byte at a time, pausing an upload, never closing — gives up
/// its connection at the deadline instead of holding it forever.
struct ConnectionLimits: Sendable {
    /// From the first byte of a request until its header is complete (slowloris).
    var headerTimeout: TimeAmount = .seconds(10)
    /// A kept-alive connection with no request in progress and no bytes arriving.
    var idleTimeout: TimeAmount = .seconds(60)
    /// The longest pause between two reads of a request body.
    var bodyTimeout: TimeAmount = .seconds(30)
    /// After an answer was sent before the request body was read (a refusal): how long the rest
    /// of the body is read and discarded before the connection is closed, so that the client
    /// sees the answer rather than a reset.
    var lingerTimeout: TimeAmount = .seconds(2)
    /// Connections open at once; beyond it new connections wait in the listen queue.
    var maxConnections = 2_000
}

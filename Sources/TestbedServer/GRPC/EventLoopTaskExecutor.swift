import NIOCore
import NIOPosix

/// Runs the gRPC server's tasks on the event loops that serve its connections: a job enqueued
/// from one of the group's loops (a stream's task woken by its channel, a child task started by
/// the connection's task) runs on that same loop; one enqueued from anywhere else (the thread
/// pool after a large batch) goes to the group's next loop.
///
/// grpc-swift runs every RPC as tasks (one for the stream, then the interceptors and the handler)
/// that read the request from, and write the response parts to, the stream's channel. On the
/// global executor each of those steps crosses threads, event loop to pool and back; running
/// them on the loop saves about a quarter of the server's CPU for a single-row call
/// (docs/grpc.md, "Speed", has the measurement). On the loop, a write is a direct call and a resumption a queued
/// closure. What runs there is what the handler runs: a small batch is scored inline, as
/// ``Scoring`` decides; a larger one goes to the thread pool, so a model's work never holds the
/// loop for long. The server's `--event-loops` sets how many loops, and so threads, there are.
final class EventLoopTaskExecutor: TaskExecutor {
    private let group: MultiThreadedEventLoopGroup
    private let loops: [any EventLoop]

    init(group: MultiThreadedEventLoopGroup) {
        self.group = group
        self.loops = Array(group.makeIterator())
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop = MultiThreadedEventLoopGroup.currentEventLoop.flatMap { current in loops.first { $0 === current } } ?? group.next()
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

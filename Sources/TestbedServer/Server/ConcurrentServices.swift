import ServiceLifecycle

/// Services run side by side that begin their graceful shutdown at the same moment.
///
/// A `ServiceGroup` shuts its services down one after another, waiting for each; two listeners in
/// it would drain in turn, and the second would keep accepting new calls while the first drained.
/// Here the HTTP and gRPC listeners are children of one service: both inherit its graceful
/// shutdown, stop accepting together, finish what is in flight, and the group moves on to the
/// job queue and monitoring only when both have. If one fails, the other is cancelled.
struct ConcurrentServices: Service {
    let services: [any Service]

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for service in services {
                group.addTask { try await service.run() }
            }
        }
    }
}

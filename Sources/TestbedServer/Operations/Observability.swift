import Hummingbird
import Logging
import Metrics
import Prometheus

/// Logging and metrics, bootstrapped once per process before the server starts.
enum Observability {
    /// JSON lines on standard error at `level`; Prometheus metrics in `registry`.
    static func bootstrap(level: Logger.Level) -> PrometheusCollectorRegistry {
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Predictions take fractions of a millisecond; training takes minutes.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
            .seconds(300), .seconds(1800),
        ]
        // Prometheus names may not hold dots; Hummingbird's metrics use them.
        factory.nameAndLabelSanitizer = { name, labels in
            (name.replacingOccurrences(of: ".", with: "_"), labels.map { ($0.0.replacingOccurrences(of: ".", with: "_"), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }
}

/// `GET /metrics`: the Prometheus text format.
struct MetricsRoute {
    let registry: PrometheusCollectorRegistry

    func add(to router: RouterGroup<TestbedContext>) {
        router.get("metrics") { _, context -> Response in
            try context.requireAdmin()
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}

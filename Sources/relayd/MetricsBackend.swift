import Metrics
import Prometheus

/// relayd's one metrics backend: swift-prometheus behind swift-metrics. Every module below relayd speaks only
/// swift-metrics' API; this is where what they record becomes Prometheus text for `/metrics`.
enum MetricsBackend {
    /// Attempts against a slow upstream can take minutes (data timeouts are long), so the buckets reach
    /// further than swift-prometheus' default 10 s.
    static let attemptDurationBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    /// Bootstraps `MetricsSystem` with a Prometheus factory over a fresh registry and returns the registry.
    /// Call once per process, before creating any service: `MetricsSystem.bootstrap` traps on a second call,
    /// and metrics made before it go to the no-op backend.
    static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["mailrelay_delivery_attempt_duration_seconds"] = attemptDurationBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }
}

import CoreMetrics

/// What the upstream transport counts, through swift-metrics: connections that could not be used, by reason.
public struct UpstreamMetrics: Sendable {
    /// One counter per reason, all made up front so every reason is exported (at 0) from the start.
    private let failures: [UpstreamFailureReason: Counter]

    /// Metrics made by `factory`; by default the one bootstrapped in `MetricsSystem`, so create this after
    /// bootstrapping.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        var failures: [UpstreamFailureReason: Counter] = [:]
        for reason in UpstreamFailureReason.allCases {
            failures[reason] = Counter(
                label: "mailrelay_upstream_connection_failures_total", dimensions: [("reason", reason.rawValue)],
                factory: factory)
        }
        self.failures = failures
    }

    func countFailure(_ failure: UpstreamFailure) {
        failures[UpstreamFailureReason(failure)]?.increment()
    }
}

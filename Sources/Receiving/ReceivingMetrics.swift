import CoreMetrics

/// What the SMTP side counts, through swift-metrics: whichever backend relayd bootstrapped sees it (none in
/// tests, where the default factory discards everything).
public struct ReceivingMetrics: Sendable {
    /// Messages committed to the spool and answered 250.
    let messagesReceived: Counter

    /// Metrics made by `factory`; by default the one bootstrapped in `MetricsSystem`, so create this after
    /// bootstrapping.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        messagesReceived = Counter(label: "mailrelay_messages_received_total", factory: factory)
    }
}

import CoreMetrics

/// What the queue runner counts, through swift-metrics: recipients by outcome and how long attempts take.
public struct DeliveryMetrics: Sendable {
    let recipientsDelivered: Counter
    let recipientsDeferred: Counter
    let recipientsBounced: Counter
    /// One sample per attempt: the transport's time for the whole message, all its outstanding recipients.
    let attemptDuration: Timer

    /// Metrics made by `factory`; by default the one bootstrapped in `MetricsSystem`, so create this after
    /// bootstrapping.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        recipientsDelivered = Counter(label: "mailrelay_recipients_delivered_total", factory: factory)
        recipientsDeferred = Counter(label: "mailrelay_recipients_deferred_total", factory: factory)
        recipientsBounced = Counter(label: "mailrelay_recipients_bounced_total", factory: factory)
        attemptDuration = Timer(label: "mailrelay_delivery_attempt_duration_seconds", factory: factory)
    }

    /// Counts one attempt's recipient outcomes and its duration.
    func record(_ recipients: [AttemptRecord.Recipient], duration: Duration) {
        var delivered = 0, deferred = 0, bounced = 0
        for recipient in recipients {
            switch recipient.status {
            case .sent: delivered += 1
            case .deferred: deferred += 1
            case .bounced: bounced += 1
            }
        }
        if delivered > 0 { recipientsDelivered.increment(by: delivered) }
        if deferred > 0 { recipientsDeferred.increment(by: deferred) }
        if bounced > 0 { recipientsBounced.increment(by: bounced) }
        let (seconds, attoseconds) = duration.components
        attemptDuration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

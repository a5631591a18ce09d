import CoreMetrics
import SMTPProtocol

/// What the SMTP side counts, through swift-metrics: whichever backend relayd bootstrapped sees it (none in
/// tests, where the default factory discards everything).
public struct ReceivingMetrics: Sendable {
    /// Messages committed to the spool and answered 250.
    let messagesReceived: Counter
    /// Refusals by reason, one counter per reason made up front so every reason is exported from the start.
    private let rejections: [RejectionReason: Counter]
    /// Inbound TLS handshakes that failed (STARTTLS or implicit TLS): old clients, clients that do not trust
    /// the certificate, scanners.
    private let tlsFailures: Counter

    /// Metrics made by `factory`; by default the one bootstrapped in `MetricsSystem`, so create this after
    /// bootstrapping.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        messagesReceived = Counter(label: "mailrelay_messages_received_total", factory: factory)
        var rejections: [RejectionReason: Counter] = [:]
        for reason in RejectionReason.allCases {
            rejections[reason] = Counter(
                label: "mailrelay_messages_rejected_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.rejections = rejections
        tlsFailures = Counter(label: "mailrelay_inbound_tls_handshake_failures_total", factory: factory)
    }

    func countTLSFailure() {
        tlsFailures.increment()
    }

    /// Counts `reply` if it refuses mail (see `RejectionReason`); every other reply is ignored.
    func countIfRejection(_ reply: SMTPReply) {
        guard let reason = RejectionReason(reply) else { return }
        countRejection(reason)
    }

    func countRejection(_ reason: RejectionReason) {
        rejections[reason]?.increment()
    }
}

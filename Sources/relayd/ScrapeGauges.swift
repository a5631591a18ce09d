import Control
import Metrics
import Delivery
import FoundationEssentials
import Receiving
import Spool

/// The gauges that are states rather than events (open SMTP sessions, the queue's size and age), set from
/// their sources just before each `/metrics` scrape. A scrape reads the spool catalog in memory, never a file.
final class ScrapeGauges: Sendable {
    private let server: SMTPServer
    private let runner: QueueRunner
    private let catalog: SpoolCatalog
    private let inboundSessions: Gauge
    private let queueMessages: [QueueEntry.State: Gauge]
    private let queueBytes: [QueueEntry.State: Gauge]
    private let oldestAge: Gauge

    /// Creates the gauges with the bootstrapped factory: call after `MetricsBackend.bootstrap()`.
    init(server: SMTPServer, runner: QueueRunner, catalog: SpoolCatalog) {
        self.server = server
        self.runner = runner
        self.catalog = catalog
        inboundSessions = Gauge(label: "mailrelay_inbound_sessions")
        var messages: [QueueEntry.State: Gauge] = [:]
        var bytes: [QueueEntry.State: Gauge] = [:]
        for state in QueueEntry.State.allCases {
            messages[state] = Gauge(label: "mailrelay_queue_messages", dimensions: [("state", state.rawValue)])
            bytes[state] = Gauge(label: "mailrelay_queue_bytes", dimensions: [("state", state.rawValue)])
        }
        queueMessages = messages
        queueBytes = bytes
        oldestAge = Gauge(label: "mailrelay_queue_oldest_age_seconds")
    }

    /// Sets every gauge from its source now.
    func refresh() async {
        inboundSessions.record(server.activeSessions)
        // Before recovery has filled the catalog there is nothing trustworthy to show: keep the last values.
        guard let entries = catalog.entries(ordered: false) else { return }
        let occupancy = QueueOccupancy(entries, active: await runner.activeIDs(), now: Date().timeIntervalSince1970)
        for state in QueueEntry.State.allCases {
            queueMessages[state]?.record(occupancy.messages[state])
            queueBytes[state]?.record(occupancy.bytes[state])
        }
        oldestAge.record(occupancy.oldestAgeSeconds ?? 0)
    }
}

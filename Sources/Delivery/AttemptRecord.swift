import Spool

/// How one delivery attempt of a message ended, per recipient: what `relayctl send-test` reports.
public struct AttemptRecord: Sendable, Equatable, Codable {
    /// One recipient of the attempt, classified as its `msg=delivery` log line is.
    public struct Recipient: Sendable, Equatable, Codable {
        /// The log's `status=`: delivered (2xx), to be retried, or failed for good.
        public enum Status: String, Sendable, Codable { case sent, deferred, bounced }

        public var address: String
        public var status: Status
        /// The upstream's reply, or relayd's reason (a connection failure, an expiry).
        public var reply: String

        public init(address: String, status: Status, reply: String) {
            self.address = address
            self.status = status
            self.reply = reply
        }
    }

    public var id: QueueID
    /// Where the attempt went, as in the log: `outbox`, or `smtp-relay.example.com[192.0.2.7]:587`.
    public var relay: String
    /// Seconds since the epoch.
    public var finishedAt: Double
    /// The recipients this attempt was for (those still outstanding), in envelope order.
    public var recipients: [Recipient]

    public init(id: QueueID, relay: String, finishedAt: Double, recipients: [Recipient]) {
        self.id = id
        self.relay = relay
        self.finishedAt = finishedAt
        self.recipients = recipients
    }
}

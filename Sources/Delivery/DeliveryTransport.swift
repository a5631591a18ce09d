import Spool

/// A message handed to a transport: what to send and to whom (only recipients still outstanding).
public struct OutboundMessage: Sendable {
    public var envelope: MessageEnvelope
    /// The message as accepted, Received: header included.
    public var body: [UInt8]
    public var recipients: [String]

    public init(envelope: MessageEnvelope, body: [UInt8], recipients: [String]) {
        self.envelope = envelope
        self.body = body
        self.recipients = recipients
    }
}

/// One recipient's result from one attempt, with the reply or reason an operator will read.
public enum RecipientOutcome: Sendable, Equatable {
    case delivered(String)
    case deferred(String)
    case failed(String)
}

/// What one attempt came to: where it went and each recipient's outcome.
public struct DeliveryReport: Sendable, Equatable {
    /// Where the attempt went, for the log: `outbox`, or `smtp-relay.brevo.com[1.2.3.4]:587`.
    public var relay: String
    /// One entry per recipient of the attempt.
    public var outcomes: [String: RecipientOutcome]

    public init(relay: String, outcomes: [String: RecipientOutcome]) {
        self.relay = relay
        self.outcomes = outcomes
    }

    /// Every recipient gets the same outcome: a connection that failed, a whole-message reply.
    public init(relay: String, recipients: [String], outcome: RecipientOutcome) {
        self.relay = relay
        self.outcomes = Dictionary(recipients.map { ($0, outcome) }) { first, _ in first }
    }
}

/// Where delivery hands messages: the upstream smarthost, or the local outbox when none is configured.
public protocol DeliveryTransport: Sendable {
    /// A short name for logs (`outbox`, `upstream smtp-relay.brevo.com:587`).
    var name: String { get }
    /// Attempts one delivery; returns an outcome for every recipient in `message.recipients`.
    func deliver(_ message: OutboundMessage) async -> DeliveryReport
    /// The upstream's health for `relayctl stats`; nil when there is no upstream (the outbox).
    func status() async -> UpstreamStatus?
    /// Ends a pause after connection failures, so the next attempt connects at once: an operator's
    /// `relayctl flush` after fixing an outage (Postfix's `postqueue -f` forgets dead destinations too).
    func endSuspension() async
}

extension DeliveryTransport {
    /// No upstream to report on.
    public func status() async -> UpstreamStatus? { nil }
    public func endSuspension() async {}
}

import Spool

/// One message as `relayctl queue --json` prints it and the control channel streams it: the stable
/// schema documented field by field in docs/control-protocol.md. Fields are only ever added.
public struct QueueEntry: Sendable, Equatable {
    /// Where the message stands, from the operator's point of view.
    public enum State: String, Sendable, CaseIterable, Comparable {
        /// Not tried yet: waiting for its first attempt.
        case queued
        /// Being delivered right now (only relayd knows this).
        case active
        /// Tried, and waiting for its next attempt.
        case deferred
        /// Held by an operator: not tried until released.
        case held
        /// Finished with at least one failed recipient; kept in `failed/` until purged.
        case failed

        public static func < (a: State, b: State) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// The SMTP client that handed the message over.
    public struct Client: Sendable, Equatable {
        public var address: String
        /// The name it gave in EHLO/HELO.
        public var name: String

        public init(address: String, name: String) {
            self.address = address
            self.name = name
        }
    }

    /// One recipient's fate so far.
    public struct Recipient: Sendable, Equatable {
        public var address: String
        public var status: DeliveryState.Recipient.Status
        /// The last reply about this recipient, e.g. `421 4.7.0 Try again later`.
        public var reply: String?
        /// When that reply came, in seconds since the epoch.
        public var at: Int?

        public init(address: String, status: DeliveryState.Recipient.Status, reply: String? = nil, at: Int? = nil) {
            self.address = address
            self.status = status
            self.reply = reply
            self.at = at
        }
    }

    public var id: QueueID
    public var state: State
    /// Message bytes as accepted.
    public var size: Int
    /// Arrival, in seconds since the epoch.
    public var arrival: Int
    public var ageSeconds: Int
    public var attempts: Int
    /// When the next attempt is due, in seconds since the epoch; nil when none is scheduled (not tried yet,
    /// held, being delivered, failed).
    public var nextAttempt: Int?
    /// For failed messages: when they were retired into `failed/`, in seconds since the epoch.
    public var failedAt: Int?
    /// The envelope sender; empty for the null sender `<>`.
    public var sender: String
    public var client: Client
    public var recipients: [Recipient]
    /// The most recent reply about any recipient (or the attempt's error), nil before the first attempt.
    public var lastReply: String?

    public init(
        id: QueueID, state: State, size: Int, arrival: Int, ageSeconds: Int, attempts: Int, nextAttempt: Int?,
        failedAt: Int?, sender: String, client: Client, recipients: [Recipient], lastReply: String?
    ) {
        self.id = id
        self.state = state
        self.size = size
        self.arrival = arrival
        self.ageSeconds = ageSeconds
        self.attempts = attempts
        self.nextAttempt = nextAttempt
        self.failedAt = failedAt
        self.sender = sender
        self.client = client
        self.recipients = recipients
        self.lastReply = lastReply
    }
}

extension QueueEntry {
    /// The entry for a message read from the spool, as seen at `now` (seconds since the epoch); `active` when
    /// relayd is delivering it at this moment.
    public init(_ entry: SpoolEntry, now: Double, active: Bool = false) {
        let state = entry.state
        let operatorState = State(entry, active: active)
        let scheduled = (operatorState == .queued || operatorState == .deferred) && state.nextAttemptAt > 0
        var latest: (at: Double, reply: String)?
        for recipient in state.recipients {
            guard let reply = recipient.reply else { continue }
            let at = recipient.at ?? -.infinity
            if latest == nil || at > latest!.at { latest = (at, reply) }
        }
        self.init(
            id: entry.id,
            state: operatorState,
            size: entry.size,
            arrival: Int(entry.envelope.receivedAt.rounded(.down)),
            ageSeconds: max(0, Int((now - entry.envelope.receivedAt).rounded(.down))),
            attempts: state.attempts,
            nextAttempt: scheduled ? Int(state.nextAttemptAt.rounded(.down)) : nil,
            failedAt: entry.failedAt.map { Int($0.rounded(.down)) },
            sender: entry.envelope.sender,
            client: Client(address: entry.envelope.clientAddress, name: entry.envelope.clientName),
            recipients: state.recipients.map {
                Recipient(address: $0.address, status: $0.status, reply: $0.reply, at: $0.at.map { Int($0.rounded(.down)) })
            },
            lastReply: latest?.reply ?? state.lastError)
    }
}

extension QueueEntry.State {
    /// Where a spooled message stands; `active` when relayd is delivering it at this moment.
    public init(_ entry: SpoolEntry, active: Bool) {
        self =
            if entry.location == .failed { .failed }
            else if active { .active }
            else if entry.state.held { .held }
            else if entry.state.attempts == 0 { .queued }
            else { .deferred }
    }
}

/// The changing part of a queued message: attempts, per-recipient outcomes, hold, next try.
public struct DeliveryState: Sendable, Codable, Equatable {
    /// One recipient's fate so far.
    public struct Recipient: Sendable, Codable, Equatable {
        public enum Status: String, Sendable, Codable { case pending, deferred, delivered, failed }
        public var address: String
        public var status: Status
        /// The last reply about this recipient, e.g. `421 4.7.0 Try again later`.
        public var reply: String?
        /// Seconds since the epoch of the last outcome.
        public var at: Double?
        /// Whether the sender has been sent a bounce for this (failed) recipient; absent in older state files.
        public var senderNotified: Bool?

        /// Failed, and the sender not told yet: due a bounce.
        public var awaitsBounce: Bool { status == .failed && senderNotified != true }

        public init(address: String, status: Status = .pending, reply: String? = nil, at: Double? = nil) {
            self.address = address
            self.status = status
            self.reply = reply
            self.at = at
        }
    }

    /// One finished attempt, for `relayctl show`: when, through which relay, and what each recipient it
    /// tried got.
    public struct Attempt: Sendable, Codable, Equatable {
        public var at: Double
        public var relay: String
        public var recipients: [Recipient]

        public init(at: Double, relay: String, recipients: [Recipient]) {
            self.at = at
            self.relay = relay
            self.recipients = recipients
        }
    }

    /// Attempts kept in `history`: enough to see a pattern (the default schedule makes ~120 attempts in five
    /// days), small enough that a state rewrite stays one small write.
    public static let historyLimit = 20

    public var attempts: Int
    public var nextAttemptAt: Double
    public var held: Bool
    public var lastError: String?
    public var recipients: [Recipient]
    /// The latest attempts, oldest first, at most `historyLimit`; absent in state files written before it.
    public var history: [Attempt]?

    public init(recipients: [String], nextAttemptAt: Double = 0) {
        self.attempts = 0
        self.nextAttemptAt = nextAttemptAt
        self.held = false
        self.lastError = nil
        self.recipients = recipients.map { Recipient(address: $0) }
    }

    /// Appends an attempt to `history`, dropping the oldest beyond `historyLimit`.
    public mutating func record(_ attempt: Attempt) {
        var history = self.history ?? []
        history.append(attempt)
        if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
        self.history = history
    }

    /// Recipients still to deliver.
    public var outstanding: [Recipient] { recipients.filter { $0.status == .pending || $0.status == .deferred } }
}

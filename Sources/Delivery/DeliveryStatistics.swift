/// What `relayctl stats` shows about delivery: the last hour's recipient outcomes and what is going on now.
public struct DeliveryStatistics: Sendable, Equatable, Codable {
    /// Recipient outcomes `status=sent` in the last hour.
    public var delivered: Int
    /// Recipient outcomes `status=deferred` in the last hour (one recipient deferred twice counts twice).
    public var deferred: Int
    /// Recipient outcomes `status=bounced` in the last hour.
    public var bounced: Int
    /// Attempts in progress now.
    public var active: Int
    /// The primary upstream's health; nil for the outbox transport.
    public var upstream: UpstreamStatus?

    public init(delivered: Int, deferred: Int, bounced: Int, active: Int, upstream: UpstreamStatus?) {
        self.delivered = delivered
        self.deferred = deferred
        self.bounced = bounced
        self.active = active
        self.upstream = upstream
    }
}

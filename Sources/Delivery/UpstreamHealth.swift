/// Whether the upstream looks reachable: after a failed connection attempt, new connections are suspended
/// for a while so an outage costs one attempt per interval rather than one per queued message.
///
/// Postfix does the same ("delivery temporarily suspended"): while suspended, deliveries are deferred at
/// once with the last error, which also keeps a blackholed upstream (every connect waiting out its timeout)
/// from tying up every worker. The suspension doubles with consecutive failures, from `initial` up to
/// `maximum`; the first delivery after it ends is the probe, and one success clears it.
struct UpstreamHealth: Sendable {
    var initial: Duration = .seconds(5)
    var maximum: Duration = .seconds(60)
    private(set) var consecutiveFailures = 0
    private(set) var suspendedUntil: ContinuousClock.Instant?
    private(set) var lastFailure: String?
    /// When `lastFailure` happened, in seconds since the epoch (for operators; timing uses the instants).
    private(set) var lastFailureAt: Double?
    /// The relay the last failure was with, as the delivery log spells it (`host[address]:port` once an address
    /// was reached), so deferrals while suspended name the same relay as the failed attempt.
    private(set) var lastFailureRelay: String?

    /// The reason to defer without trying, or nil when a connection may be attempted now.
    func suspension(at now: ContinuousClock.Instant) -> String? {
        guard let until = suspendedUntil, now < until, let lastFailure else { return nil }
        return "delivery temporarily suspended: \(lastFailure)"
    }

    /// Whether the last attempt to open a session succeeded (or none was made yet).
    var reachable: Bool { lastFailure == nil }

    mutating func recordFailure(_ reason: String, relay: String? = nil, at now: ContinuousClock.Instant, timestamp: Double) {
        consecutiveFailures += 1
        lastFailure = reason
        lastFailureRelay = relay
        lastFailureAt = timestamp
        let doublings = min(consecutiveFailures - 1, 16)
        suspendedUntil = now + min(initial * (1 << doublings), maximum)
    }

    /// Lets the next delivery try at once; the failure stays on record until a connection succeeds, and
    /// another failure suspends again for the next doubled interval.
    mutating func endSuspension() {
        suspendedUntil = nil
    }

    mutating func recordSuccess() {
        consecutiveFailures = 0
        suspendedUntil = nil
        lastFailure = nil
        lastFailureAt = nil
        lastFailureRelay = nil
    }
}

import Spool

/// What all sessions share to keep one client in check: its connection and message rates, the delay after
/// failed AUTH, and the threads that check passwords (a slow hash by design, which must not hold up the event
/// loop). Lives as long as the server, so a reload changes the limits without resetting the counts.
final class InboundLimits: Sendable {
    let connections: RateLimiter
    /// Messages per client address, and separately per authenticated user (keys `user:<name>`).
    let messages: RateLimiter
    let authFailures = AuthFailureDelay()
    /// Two threads: a burst of logins waits its turn rather than starving the rest of relayd of CPU.
    let passwordChecks = BlockingIOPool(threads: 2)

    init(_ configuration: SMTPServerConfiguration) {
        connections = RateLimiter(limit: configuration.connectionsPerMinute)
        messages = RateLimiter(limit: configuration.messagesPerMinute)
    }

    func update(_ configuration: SMTPServerConfiguration) {
        connections.setLimit(configuration.connectionsPerMinute)
        messages.setLimit(configuration.messagesPerMinute)
    }

    /// Whether a client at `address` (authenticated as `user`) may start one more message now: both
    /// allowances must have room (a message the user's allowance refuses has still used one of the
    /// address's, which only makes a client that is over its limit wait a little longer).
    func admitMessage(address: String, user: String?) -> Bool {
        guard messages.admit(address) else { return false }
        guard let user else { return true }
        return messages.admit("user:" + user)
    }
}

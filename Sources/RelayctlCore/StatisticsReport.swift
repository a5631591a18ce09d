import Control

/// `relayctl stats` in lines for a person:
///
///     queued: 0  active: 0  deferred: 2  held: 0  failed: 0   (2 messages, 2.4K, oldest 3m)
///     last hour: delivered 10, deferred 2, bounced 0
///     upstream smtp-relay.brevo.com:587: unreachable, last error at 12:03:04 UTC: connect …: Connection refused
///
/// Read from the spool with relayd down there is no last hour nor upstream; the report says they are unknown.
public enum StatisticsReport {
    /// `now` is the current time in seconds since the epoch (to shorten today's times).
    public static func lines(_ statistics: QueueStatistics, now: Double) -> [String] {
        let queue = statistics.queue
        let counts = QueueEntry.State.allCases.map { "\($0.rawValue): \(queue.counts[$0])" }.joined(separator: "  ")
        var totals = "\(MessageCount.text(queue.messages)), \(SizeText.format(queue.bytes))"
        if let oldest = queue.oldestAgeSeconds { totals += ", oldest \(AgeText.format(seconds: oldest))" }
        var lines = ["\(counts)   (\(totals))"]

        guard let lastHour = statistics.lastHour, let upstreams = statistics.upstreams else {
            lines.append("last hour, upstream: unknown (relayd is not running)")
            return lines
        }
        lines.append("last hour: delivered \(lastHour.delivered), deferred \(lastHour.deferred), bounced \(lastHour.bounced)")
        if upstreams.isEmpty { lines.append("upstream: none (messages go to the outbox folder)") }
        for upstream in upstreams {
            lines.append("upstream \(upstream.endpoint): " + health(upstream, now: now))
        }
        return lines
    }

    static func health(_ upstream: QueueStatistics.Upstream, now: Double) -> String {
        var text = upstream.reachable ? "reachable" : "unreachable"
        if let error = upstream.lastError {
            let when = upstream.lastErrorAt.map { " at " + time($0, now: now) } ?? ""
            text += ", last error\(when): \(error)"
        }
        return text
    }

    /// `12:03:04 UTC` on the current UTC day, else `2024-05-01 12:03:04 UTC`.
    static func time(_ epochSeconds: Int, now: Double) -> String {
        let iso = UTCTimestamp.format(epochSeconds)  // 2024-05-01T12:03:04Z
        let day = iso.prefix(10)
        let clock = iso.dropFirst(11).prefix(8)
        return day == UTCTimestamp.format(Int(now)).prefix(10) ? "\(clock) UTC" : "\(day) \(clock) UTC"
    }
}

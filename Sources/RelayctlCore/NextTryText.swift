import Control

/// When a message's next attempt is due, as the queue table and `show` print it: `in 12m`, `now`, or `-` when
/// none is scheduled (held, being delivered, failed).
public enum NextTryText {
    /// `now` is the current time in seconds since the epoch.
    public static func format(_ entry: QueueEntry, now: Double) -> String {
        switch entry.state {
        case .queued, .deferred:
            // A queued message without a time is waiting for its first attempt, which is due at once.
            guard let next = entry.nextAttempt else { return entry.state == .queued ? "now" : "-" }
            let wait = Double(next) - now
            return wait <= 0 ? "now" : "in " + AgeText.format(seconds: Int(wait.rounded(.up)))
        case .active, .held, .failed:
            return "-"
        }
    }
}

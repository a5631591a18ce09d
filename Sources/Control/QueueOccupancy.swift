import Spool

/// How full the queue is: messages and message bytes per state, and the age of the oldest message not yet
/// finished. What relayd's queue gauges show, computed from the catalog without reading a file.
public struct QueueOccupancy: Sendable, Equatable {
    public var messages = QueueStateCounts()
    /// Message bytes per state (the same per-state table, counting bytes instead of messages).
    public var bytes = QueueStateCounts()
    /// Seconds since the oldest message in `queue/` (any state but failed) was received; nil when there is none.
    public var oldestAgeSeconds: Double?

    public init() {}

    /// Counts `entries` as seen at `now` (seconds since the epoch), those in `active` as being delivered.
    public init(_ entries: some Sequence<SpoolEntry>, active: Set<QueueID>, now: Double) {
        var oldestArrival: Double?
        for entry in entries {
            let state = QueueEntry.State(entry, active: active.contains(entry.id))
            messages[state] += 1
            bytes[state] += entry.size
            if state != .failed {
                oldestArrival = min(oldestArrival ?? entry.envelope.receivedAt, entry.envelope.receivedAt)
            }
        }
        oldestAgeSeconds = oldestArrival.map { max(0, now - $0) }
    }
}

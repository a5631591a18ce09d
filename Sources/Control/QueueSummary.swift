import FastJSON

/// The line that ends a queue listing: what the listed messages add up to. Built entry by entry while the
/// listing streams, so nothing is held back for it.
public struct QueueSummary: Sendable, Equatable {
    public var counts = QueueStateCounts()
    /// Message bytes of all listed messages.
    public var bytes = 0
    /// Age of the oldest listed message still in the queue (failed ones are finished and do not count);
    /// nil when there is none.
    public var oldestAgeSeconds: Int?
    /// Entries that could not be read, one operator-readable sentence each (they are not listed).
    public var unreadable: [String] = []

    public init() {}

    /// Listed messages.
    public var messages: Int { counts.total }

    /// Counts one listed message in.
    public mutating func add(_ entry: QueueEntry) {
        counts[entry.state] += 1
        bytes += entry.size
        if entry.state != .failed {
            oldestAgeSeconds = max(oldestAgeSeconds ?? entry.ageSeconds, entry.ageSeconds)
        }
    }
}

extension QueueSummary: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("messages"); w.int(messages)
            w.key("counts"); counts.write(to: &w)
            w.key("bytes"); w.int(bytes)
            w.key("oldest_age_seconds"); w.int(oldestAgeSeconds)
            w.key("unreadable"); w.array(unreadable) { w, text in w.string(text) }
        }
    }

    public init(json v: JSONValue) throws(JSONError) {
        self.init()
        counts = try QueueStateCounts(json: try v.object("counts"))
        bytes = try v.int("bytes")
        oldestAgeSeconds = try v.optionalInt("oldest_age_seconds")
        unreadable = try v.optionalArray("unreadable") == nil ? [] : try v.strings("unreadable")
    }
}

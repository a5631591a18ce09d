import FastJSON

/// Which messages a listing shows: `relayctl queue --state … --from … --to … --older-than …`. Every
/// criterion given must match; none given matches everything.
public struct QueueFilter: Sendable, Equatable {
    /// Any of these states; empty for all.
    public var states: Set<QueueEntry.State>
    /// Part of the sender, any case; `<>` matches only the null sender.
    public var from: String?
    /// Part of any recipient's address, any case.
    public var to: String?
    /// Only messages that arrived more than this many seconds ago.
    public var olderThanSeconds: Int?

    public init(states: Set<QueueEntry.State> = [], from: String? = nil, to: String? = nil, olderThanSeconds: Int? = nil) {
        self.states = states
        self.from = from
        self.to = to
        self.olderThanSeconds = olderThanSeconds
    }

    /// Everything.
    public static let all = QueueFilter()

    public func matches(_ entry: QueueEntry) -> Bool {
        if !states.isEmpty, !states.contains(entry.state) { return false }
        if let olderThanSeconds, entry.ageSeconds <= olderThanSeconds { return false }
        if let from, !from.isEmpty {
            if from == "<>" {
                guard entry.sender.isEmpty else { return false }
            } else if !Self.contains(entry.sender, from) {
                return false
            }
        }
        if let to, !to.isEmpty, !entry.recipients.contains(where: { Self.contains($0.address, to) }) { return false }
        return true
    }

    private static func contains(_ text: String, _ part: String) -> Bool {
        text.lowercased().contains(part.lowercased())
    }
}

extension QueueFilter: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("states"); w.array(states.sorted()) { w, state in w.string(state.rawValue) }
            w.key("from"); w.string(from)
            w.key("to"); w.string(to)
            w.key("older_than_seconds"); w.int(olderThanSeconds)
        }
    }

    /// Every member may be absent or null (no restriction).
    public init(json v: JSONValue) throws(JSONError) {
        var states = Set<QueueEntry.State>()
        for item in try v.optionalArray("states") ?? [] {
            guard case .string(let text) = item else { throw .wrongType("states", expected: "an array of strings", found: item) }
            states.insert(try JSONValue.oneOf(text, "states", QueueEntry.State.self))
        }
        self.init(
            states: states, from: try v.optionalString("from"), to: try v.optionalString("to"),
            olderThanSeconds: try v.optionalInt("older_than_seconds"))
    }
}

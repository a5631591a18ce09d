import FastJSON

/// How many messages are in each state: the `counts` object of summaries and statistics.
public struct QueueStateCounts: Sendable, Equatable {
    public var queued = 0
    public var active = 0
    public var deferred = 0
    public var held = 0
    public var failed = 0

    public init(queued: Int = 0, active: Int = 0, deferred: Int = 0, held: Int = 0, failed: Int = 0) {
        self.queued = queued
        self.active = active
        self.deferred = deferred
        self.held = held
        self.failed = failed
    }

    /// All states together.
    public var total: Int { queued + active + deferred + held + failed }

    public subscript(state: QueueEntry.State) -> Int {
        get {
            switch state {
            case .queued: queued
            case .active: active
            case .deferred: deferred
            case .held: held
            case .failed: failed
            }
        }
        set {
            switch state {
            case .queued: queued = newValue
            case .active: active = newValue
            case .deferred: deferred = newValue
            case .held: held = newValue
            case .failed: failed = newValue
            }
        }
    }
}

extension QueueStateCounts: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("queued"); w.int(queued)
            w.key("active"); w.int(active)
            w.key("deferred"); w.int(deferred)
            w.key("held"); w.int(held)
            w.key("failed"); w.int(failed)
        }
    }

    /// A state this side does not know counts nowhere (a newer relayd may report more states).
    public init(json v: JSONValue) throws(JSONError) {
        self.init(
            queued: try v.optionalInt("queued") ?? 0, active: try v.optionalInt("active") ?? 0,
            deferred: try v.optionalInt("deferred") ?? 0, held: try v.optionalInt("held") ?? 0,
            failed: try v.optionalInt("failed") ?? 0)
    }
}

import FastJSON

/// What `relayctl stats` prints: the queue's counts and, from relayd only, the last hour's outcomes and
/// whether the upstreams answer.
public struct QueueStatistics: Sendable, Equatable {
    /// Recipients' outcomes in the last hour, counted by relayd since it started (at most one hour back).
    public struct LastHour: Sendable, Equatable {
        public var delivered: Int
        public var deferred: Int
        public var bounced: Int

        public init(delivered: Int, deferred: Int, bounced: Int) {
            self.delivered = delivered
            self.deferred = deferred
            self.bounced = bounced
        }
    }

    /// One configured upstream (the primary first, then the fallbacks) as relayd last saw it.
    public struct Upstream: Sendable, Equatable {
        /// `host:port`.
        public var endpoint: String
        /// False while relayd holds deliveries back after failures to connect (see `UpstreamHealth`).
        public var reachable: Bool
        public var lastError: String?
        /// When `lastError` happened, in seconds since the epoch.
        public var lastErrorAt: Int?

        public init(endpoint: String, reachable: Bool, lastError: String? = nil, lastErrorAt: Int? = nil) {
            self.endpoint = endpoint
            self.reachable = reachable
            self.lastError = lastError
            self.lastErrorAt = lastErrorAt
        }
    }

    /// The whole queue (and `failed/`) summed up as a listing of everything would end.
    public var queue: QueueSummary
    /// Nil when read from the spool with relayd down: only relayd counts outcomes.
    public var lastHour: LastHour?
    /// Nil when read from the spool with relayd down.
    public var upstreams: [Upstream]?

    public init(queue: QueueSummary, lastHour: LastHour? = nil, upstreams: [Upstream]? = nil) {
        self.queue = queue
        self.lastHour = lastHour
        self.upstreams = upstreams
    }
}

extension QueueStatistics: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("queue"); queue.write(to: &w)
            w.key("last_hour")
            if let lastHour {
                w.object { w in
                    w.key("delivered"); w.int(lastHour.delivered)
                    w.key("deferred"); w.int(lastHour.deferred)
                    w.key("bounced"); w.int(lastHour.bounced)
                }
            } else {
                w.null()
            }
            w.key("upstreams")
            if let upstreams {
                w.array(upstreams) { w, upstream in
                    w.object { w in
                        w.key("endpoint"); w.string(upstream.endpoint)
                        w.key("reachable"); w.bool(upstream.reachable)
                        w.key("last_error"); w.string(upstream.lastError)
                        w.key("last_error_at"); w.timestamp(upstream.lastErrorAt)
                    }
                }
            } else {
                w.null()
            }
        }
    }

    public init(json v: JSONValue) throws(JSONError) {
        var lastHour: LastHour?
        if let hour = try v.optionalObject("last_hour") {
            lastHour = LastHour(delivered: try hour.int("delivered"), deferred: try hour.int("deferred"), bounced: try hour.int("bounced"))
        }
        var upstreams: [Upstream]?
        if let items = try v.optionalArray("upstreams") {
            upstreams = []
            for item in items {
                upstreams?.append(Upstream(
                    endpoint: try item.string("endpoint"), reachable: try item.bool("reachable"),
                    lastError: try item.optionalString("last_error"), lastErrorAt: try item.optionalTimestamp("last_error_at")))
            }
        }
        self.init(queue: try QueueSummary(json: try v.object("queue")), lastHour: lastHour, upstreams: upstreams)
    }
}

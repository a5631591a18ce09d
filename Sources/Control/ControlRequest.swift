import FastJSON
import Spool

/// One request line from relayctl to relayd: `{"v":1,"command":"…",…}` (docs/control-protocol.md).
public enum ControlRequest: Sendable, Equatable {
    /// Which messages `delete --state` removes.
    public enum DeletableState: String, Sendable, CaseIterable {
        case failed, deferred, held
    }

    /// Lists the matching messages, one reply line each, then a summary line.
    case queue(QueueFilter)
    /// One message's envelope, state and header section.
    case show(QueueID)
    /// One message's bytes as queued.
    case showRaw(QueueID)
    /// Tries the given messages now (nil: every queued message), whatever their retry schedule says.
    case flush([QueueID]?)
    case hold([QueueID])
    case release([QueueID])
    case delete([QueueID])
    case deleteState(DeletableState)
    case stats
    /// Waits for the end of the message's next (or current) delivery attempt, at most `timeoutSeconds`.
    case awaitOutcome(QueueID, timeoutSeconds: Int)
    /// Reads the configuration files again and switches to them if they are usable (like SIGHUP).
    case reload

    /// The protocol version this side speaks; requests carry it as `"v"`.
    public static let version = 1
    /// The longest `await_outcome` wait a request may ask for: an hour.
    public static let maximumAwaitSeconds = 3600

    /// The wire name of the request's command.
    public var command: String {
        switch self {
        case .queue: "queue"
        case .show: "show"
        case .showRaw: "show_raw"
        case .flush: "flush"
        case .hold: "hold"
        case .release: "release"
        case .delete, .deleteState: "delete"
        case .stats: "stats"
        case .awaitOutcome: "await_outcome"
        case .reload: "reload"
        }
    }

    /// Whether the request changes the queue (and so needs relayd, and is logged at info).
    public var changesState: Bool {
        switch self {
        case .flush, .hold, .release, .delete, .deleteState, .reload: true
        case .queue, .show, .showRaw, .stats, .awaitOutcome: false
        }
    }
}

extension ControlRequest: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("v"); w.int(ControlRequest.version)
            w.key("command"); w.string(command)
            switch self {
            case .queue(let filter):
                w.key("filter"); filter.write(to: &w)
            case .show(let id), .showRaw(let id):
                w.key("id"); w.string(id.rawValue)
            case .flush(let ids):
                if let ids { w.key("ids"); w.array(ids) { w, id in w.string(id.rawValue) } }
            case .hold(let ids), .release(let ids), .delete(let ids):
                w.key("ids"); w.array(ids) { w, id in w.string(id.rawValue) }
            case .deleteState(let state):
                w.key("state"); w.string(state.rawValue)
            case .stats, .reload:
                break
            case .awaitOutcome(let id, let timeout):
                w.key("id"); w.string(id.rawValue)
                w.key("timeout_seconds"); w.int(timeout)
            }
        }
    }

    /// Reads a request; the error is the operator-readable reason of a `bad_request` reply.
    public init(json v: JSONValue) throws(JSONError) {
        _ = try v.members("a request")
        guard let version = try v.optionalInt("v") else { throw JSONError("the protocol version \"v\" is missing") }
        guard version == ControlRequest.version else {
            throw JSONError("protocol version \(version) is not supported; this relayd speaks \(ControlRequest.version)")
        }
        let command = try v.string("command")
        switch command {
        case "queue":
            guard let filter = try v.optionalObject("filter") else { self = .queue(.all); break }
            self = .queue(try QueueFilter(json: filter))
        case "show": self = .show(try v.queueID("id"))
        case "show_raw": self = .showRaw(try v.queueID("id"))
        case "flush": self = .flush(v["ids"] == nil || v["ids"] == .null ? nil : try Self.nonEmptyIDs(v))
        case "hold": self = .hold(try Self.nonEmptyIDs(v))
        case "release": self = .release(try Self.nonEmptyIDs(v))
        case "delete":
            switch (v["ids"], try v.optionalString("state")) {
            case (.some, nil): self = .delete(try Self.nonEmptyIDs(v))
            case (nil, .some(let state)): self = .deleteState(try JSONValue.oneOf(state, "state", DeletableState.self))
            case (nil, nil), (.some, .some): throw JSONError("delete needs either \"ids\" or \"state\"")
            }
        case "stats": self = .stats
        case "reload": self = .reload
        case "await_outcome":
            let timeout = try v.int("timeout_seconds")
            guard (1...ControlRequest.maximumAwaitSeconds).contains(timeout) else {
                throw JSONError("\"timeout_seconds\" must be between 1 and \(ControlRequest.maximumAwaitSeconds)")
            }
            self = .awaitOutcome(try v.queueID("id"), timeoutSeconds: timeout)
        default:
            throw JSONError("unknown command \"\(command)\"")
        }
    }

    private static func nonEmptyIDs(_ v: JSONValue) throws(JSONError) -> [QueueID] {
        let ids = try v.queueIDs("ids")
        guard !ids.isEmpty else { throw JSONError("\"ids\" is empty") }
        return ids
    }
}

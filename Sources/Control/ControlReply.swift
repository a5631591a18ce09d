import FastJSON
import Spool

/// One reply line from relayd: an object with a single key naming what it carries, e.g.
/// `{"message":{…}}` or `{"error":{"code":"not_found","message":"…"}}` (docs/control-protocol.md).
public enum ControlReply: Sendable, Equatable {
    /// One listed message (`queue` streams these, then a `summary`).
    case message(QueueEntry)
    /// The end of a `queue` listing.
    case summary(QueueSummary)
    case detail(MessageDetail)
    case raw(RawMessage)
    case changes(ChangeReport)
    case stats(QueueStatistics)
    case outcome(AttemptOutcome)
    case reload(ReloadReport)
    /// `await_outcome` waited `timeoutSeconds` and no attempt of `id` ended.
    case timedOut(QueueID, timeoutSeconds: Int)
    case error(ControlError)

    /// Whether this line ends the reply to a request (everything but a listed message does).
    public var isFinal: Bool {
        if case .message = self { return false }
        return true
    }
}

extension ControlReply: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            switch self {
            case .message(let entry): w.key("message"); entry.write(to: &w)
            case .summary(let summary): w.key("summary"); summary.write(to: &w)
            case .detail(let detail): w.key("detail"); detail.write(to: &w)
            case .raw(let raw): w.key("raw"); raw.write(to: &w)
            case .changes(let report): w.key("changes"); report.write(to: &w)
            case .stats(let stats): w.key("stats"); stats.write(to: &w)
            case .outcome(let outcome): w.key("outcome"); outcome.write(to: &w)
            case .reload(let report): w.key("reload"); report.write(to: &w)
            case .timedOut(let id, let timeout):
                w.key("timed_out")
                w.object { w in
                    w.key("id"); w.string(id.rawValue)
                    w.key("timeout_seconds"); w.int(timeout)
                }
            case .error(let error): w.key("error"); error.write(to: &w)
            }
        }
    }

    /// The entry of a `message` reply line, read without building a tree (a listing has a hundred thousand
    /// of them); nil for a line with any other reply, which `init(json:)` then reads.
    static func listedEntry(_ line: UnsafeBufferPointer<UInt8>) throws(JSONError) -> QueueEntry? {
        var reader = JSONReader(line)
        var entry: QueueEntry?
        try reader.readObject { r, key throws(JSONError) in
            if case "message" = key, entry == nil { entry = try QueueEntry(reader: &r) } else { try r.skipValue() }
        }
        try reader.finish()
        return entry
    }

    /// Reads a reply line; other members beside the one known kind are ignored (a newer relayd may add some).
    public init(json v: JSONValue) throws(JSONError) {
        if let entry = try v.optionalObject("message") { self = .message(try QueueEntry(json: entry)) }
        else if let summary = try v.optionalObject("summary") { self = .summary(try QueueSummary(json: summary)) }
        else if let detail = try v.optionalObject("detail") { self = .detail(try MessageDetail(json: detail)) }
        else if let raw = try v.optionalObject("raw") { self = .raw(try RawMessage(json: raw)) }
        else if let report = try v.optionalObject("changes") { self = .changes(try ChangeReport(json: report)) }
        else if let stats = try v.optionalObject("stats") { self = .stats(try QueueStatistics(json: stats)) }
        else if let outcome = try v.optionalObject("outcome") { self = .outcome(try AttemptOutcome(json: outcome)) }
        else if let report = try v.optionalObject("reload") { self = .reload(try ReloadReport(json: report)) }
        else if let wait = try v.optionalObject("timed_out") {
            self = .timedOut(try wait.queueID("id"), timeoutSeconds: try wait.int("timeout_seconds"))
        } else if let error = try v.optionalObject("error") { self = .error(try ControlError(json: error)) }
        else { throw JSONError("a reply line holds none of the known replies") }
    }
}

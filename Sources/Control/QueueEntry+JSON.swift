import FastJSON
import Spool

/// The JSON form (docs/control-protocol.md): snake_case keys in a fixed order, every key always present
/// (null when there is no value), the message's own times as ISO 8601 UTC with an `_epoch` twin.
/// Reading takes the epoch twins.
extension QueueEntry: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("id"); w.string(id.rawValue)
            w.key("state"); w.string(state.rawValue)
            w.key("size"); w.int(size)
            w.key("arrival"); w.timestamp(arrival)
            w.key("arrival_epoch"); w.int(arrival)
            w.key("age_seconds"); w.int(ageSeconds)
            w.key("attempts"); w.int(attempts)
            w.key("next_attempt"); w.timestamp(nextAttempt)
            w.key("next_attempt_epoch"); w.int(nextAttempt)
            w.key("failed_at"); w.timestamp(failedAt)
            w.key("failed_at_epoch"); w.int(failedAt)
            w.key("sender"); w.string(sender)
            w.key("client")
            w.object { w in
                w.key("address"); w.string(client.address)
                w.key("name"); w.string(client.name)
            }
            w.key("recipients")
            w.array(recipients) { w, recipient in
                w.object { w in
                    w.key("address"); w.string(recipient.address)
                    w.key("status"); w.string(recipient.status.rawValue)
                    w.key("reply"); w.string(recipient.reply)
                    w.key("at"); w.timestamp(recipient.at)
                }
            }
            w.key("last_reply"); w.string(lastReply)
        }
    }

    /// Reads a parsed entry (inside `show`'s detail). There is one decoder for the schema, the reader's: the
    /// tree is written back to text for it, which costs little next to the parse it came from.
    public init(json v: JSONValue) throws(JSONError) {
        var writer = JSONWriter()
        writer.value(v)
        let bytes = writer.bytes
        let result: Result<QueueEntry, JSONError> = bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            do throws(JSONError) {
                let entry = try QueueEntry(reader: &reader)
                try reader.finish()
                return .success(entry)
            } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Reads an entry member by member, without a tree: a listing decodes a hundred thousand of them.
    /// Unknown members are skipped (a newer relayd may add some); the ISO twins of the times are skipped
    /// for their `_epoch` members.
    public init(reader r: inout JSONReader) throws(JSONError) {
        var id: QueueID?, state: State?, size: Int?, arrival: Int?, ageSeconds: Int?, attempts: Int?
        var nextAttempt: Int?, failedAt: Int?, sender: String?, client: Client?, recipients: [Recipient]?
        var lastReply: String?
        try r.readObject { r, key throws(JSONError) in
            switch key {
            case "id":
                let text = try r.readString()
                guard let value = QueueID(text) else { throw JSONError("\"id\" is not a queue id: \(text)") }
                id = value
            case "state": state = try JSONValue.oneOf(try r.readString(), "state", State.self)
            case "size": size = try r.readInt()
            case "arrival_epoch": arrival = try r.readInt()
            case "age_seconds": ageSeconds = try r.readInt()
            case "attempts": attempts = try r.readInt()
            case "next_attempt_epoch": nextAttempt = try r.readOptionalInt()
            case "failed_at_epoch": failedAt = try r.readOptionalInt()
            case "sender": sender = try r.readString()
            case "client": client = try Client(reader: &r)
            case "recipients":
                var list: [Recipient] = []
                try r.readArray { r throws(JSONError) in list.append(try Recipient(reader: &r)) }
                recipients = list
            case "last_reply": lastReply = try r.readOptionalString()
            default: try r.skipValue()
            }
        }
        self.init(
            id: try Self.required(id, "id"), state: try Self.required(state, "state"), size: try Self.required(size, "size"),
            arrival: try Self.required(arrival, "arrival_epoch"), ageSeconds: try Self.required(ageSeconds, "age_seconds"),
            attempts: try Self.required(attempts, "attempts"), nextAttempt: nextAttempt, failedAt: failedAt,
            sender: try Self.required(sender, "sender"), client: try Self.required(client, "client"),
            recipients: try Self.required(recipients, "recipients"), lastReply: lastReply)
    }

    static func required<T>(_ value: T?, _ key: String) throws(JSONError) -> T {
        guard let value else { throw .missing(key) }
        return value
    }
}

extension QueueEntry.Client {
    init(reader r: inout JSONReader) throws(JSONError) {
        var address: String?, name: String?
        try r.readObject { r, key throws(JSONError) in
            switch key {
            case "address": address = try r.readString()
            case "name": name = try r.readString()
            default: try r.skipValue()
            }
        }
        self.init(address: try QueueEntry.required(address, "address"), name: try QueueEntry.required(name, "name"))
    }
}

extension QueueEntry.Recipient {
    init(reader r: inout JSONReader) throws(JSONError) {
        var address: String?, status: DeliveryState.Recipient.Status?, reply: String?, at: Int?
        try r.readObject { r, key throws(JSONError) in
            switch key {
            case "address": address = try r.readString()
            case "status": status = try JSONValue.recipientStatus(try r.readString(), "status")
            case "reply": reply = try r.readOptionalString()
            case "at":
                guard let text = try r.readOptionalString() else { break }
                guard let seconds = UTCTimestamp.parse(text) else { throw JSONError("\"at\" is not an ISO 8601 UTC time: \(text)") }
                at = seconds
            default: try r.skipValue()
            }
        }
        self.init(address: try QueueEntry.required(address, "address"), status: try QueueEntry.required(status, "status"),
                  reply: reply, at: at)
    }
}

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

    public init(json v: JSONValue) throws(JSONError) {
        let id = try v.queueID("id")
        let state = try v.oneOf("state", State.self)
        let client = try v.object("client")
        var recipients: [Recipient] = []
        for item in try v.array("recipients") {
            recipients.append(Recipient(
                address: try item.string("address"), status: try item.recipientStatus("status"),
                reply: try item.optionalString("reply"), at: try item.optionalTimestamp("at")))
        }
        self.init(
            id: id, state: state, size: try v.int("size"),
            arrival: try v.int("arrival_epoch"), ageSeconds: try v.int("age_seconds"), attempts: try v.int("attempts"),
            nextAttempt: try v.optionalInt("next_attempt_epoch"), failedAt: try v.optionalInt("failed_at_epoch"),
            sender: try v.string("sender"),
            client: Client(address: try client.string("address"), name: try client.string("name")),
            recipients: recipients, lastReply: try v.optionalString("last_reply"))
    }
}

import FastJSON
import Spool

/// How one delivery attempt of a message ended, per recipient: what `relayctl send-test` waits for.
public struct AttemptOutcome: Sendable, Equatable {
    /// One recipient's outcome, in the words of the delivery log's `status=`.
    public struct Recipient: Sendable, Equatable {
        /// `sent` (2xx), `deferred` (to be retried) or `bounced` (failed for good).
        public enum Status: String, Sendable, CaseIterable {
            case sent, deferred, bounced
        }

        public var address: String
        public var status: Status
        /// The upstream's reply, or relayd's reason when there was none (e.g. a connection failure).
        public var reply: String?

        public init(address: String, status: Status, reply: String?) {
            self.address = address
            self.status = status
            self.reply = reply
        }
    }

    public var id: QueueID
    /// The upstream that answered, as the delivery log writes it (`host[ip]:port`); nil when none did.
    public var relay: String?
    public var recipients: [Recipient]

    public init(id: QueueID, relay: String?, recipients: [Recipient]) {
        self.id = id
        self.relay = relay
        self.recipients = recipients
    }
}

extension AttemptOutcome: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("id"); w.string(id.rawValue)
            w.key("relay"); w.string(relay)
            w.key("recipients")
            w.array(recipients) { w, recipient in
                w.object { w in
                    w.key("address"); w.string(recipient.address)
                    w.key("status"); w.string(recipient.status.rawValue)
                    w.key("reply"); w.string(recipient.reply)
                }
            }
        }
    }

    public init(json v: JSONValue) throws(JSONError) {
        var recipients: [Recipient] = []
        for item in try v.array("recipients") {
            recipients.append(Recipient(
                address: try item.string("address"), status: try item.oneOf("status", Recipient.Status.self),
                reply: try item.optionalString("reply")))
        }
        self.init(id: try v.queueID("id"), relay: try v.optionalString("relay"), recipients: recipients)
    }
}

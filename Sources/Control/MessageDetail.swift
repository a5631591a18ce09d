import FastJSON
import Spool

/// What `relayctl show ID` prints: the message's queue entry, the rest of its envelope and its header
/// section. The body never crosses the control channel here (`show_raw` is the explicit way to get it).
public struct MessageDetail: Sendable, Equatable {
    /// At most this many bytes of header section are shown; longer ones are cut at a line end.
    public static let headerLimit = 64 * 1024

    public var entry: QueueEntry
    /// BODY=8BITMIME and SMTPUTF8 as the client declared them.
    public var eightBitMIME: Bool
    public var smtputf8: Bool
    /// The header section: the bytes before the first empty line, invalid UTF-8 shown as U+FFFD.
    public var headers: String
    /// Whether `headers` was cut at `headerLimit`.
    public var headersTruncated: Bool
    /// The latest attempts, oldest first (`DeliveryState.historyLimit` at most; `entry.attempts` counts all).
    public var history: [Attempt]

    /// One past delivery attempt: when, through which relay, and what each recipient it tried got.
    public struct Attempt: Sendable, Equatable {
        /// Seconds since the epoch.
        public var at: Int
        public var relay: String
        public var recipients: [QueueEntry.Recipient]

        public init(at: Int, relay: String, recipients: [QueueEntry.Recipient]) {
            self.at = at
            self.relay = relay
            self.recipients = recipients
        }
    }

    public init(
        entry: QueueEntry, eightBitMIME: Bool, smtputf8: Bool, headers: String, headersTruncated: Bool,
        history: [Attempt] = []
    ) {
        self.entry = entry
        self.eightBitMIME = eightBitMIME
        self.smtputf8 = smtputf8
        self.headers = headers
        self.headersTruncated = headersTruncated
        self.history = history
    }

    /// The detail of a spool entry given the first bytes of its message (at least `headerLimit + 4` of
    /// them when the message is that long, so the end of the header section can be seen).
    public init(_ entry: SpoolEntry, messagePrefix: [UInt8], now: Double, active: Bool = false) {
        let section = MessageDetail.headerSection(of: messagePrefix, messageSize: entry.size)
        self.init(
            entry: QueueEntry(entry, now: now, active: active), eightBitMIME: entry.envelope.eightBitMIME,
            smtputf8: entry.envelope.smtputf8, headers: String(decoding: section.bytes, as: UTF8.self),
            headersTruncated: section.truncated,
            history: (entry.state.history ?? []).map { attempt in
                Attempt(at: Int(attempt.at), relay: attempt.relay, recipients: attempt.recipients.map {
                    QueueEntry.Recipient(address: $0.address, status: $0.status, reply: $0.reply, at: $0.at.map { Int($0) })
                })
            })
    }

    /// The bytes before the first empty line (CRLF or bare LF line ends), at most `headerLimit`, cut after
    /// a whole line when longer. `prefix` is the message's start; `messageSize` its whole length.
    static func headerSection(of prefix: [UInt8], messageSize: Int) -> (bytes: ArraySlice<UInt8>, truncated: Bool) {
        var lineStart = 0
        var index = 0
        while index < prefix.count {
            if prefix[index] == 10 {
                let line = prefix[lineStart..<index]
                if line.isEmpty || line == [13] {
                    return lineStart <= headerLimit ? (prefix[0..<lineStart], false) : cut(prefix)
                }
                lineStart = index + 1
            }
            index += 1
        }
        // No empty line: the whole message is header (if we have all of it and it fits), else it is cut.
        if prefix.count >= messageSize, prefix.count <= headerLimit { return (prefix[...], false) }
        return cut(prefix)
    }

    private static func cut(_ prefix: [UInt8]) -> (bytes: ArraySlice<UInt8>, truncated: Bool) {
        let window = prefix.prefix(headerLimit)
        guard let lastNewline = window.lastIndex(of: 10) else { return (window, true) }
        return (prefix[0...lastNewline], true)
    }
}

extension MessageDetail: JSONConvertible {
    public func write(to w: inout JSONWriter) {
        w.object { w in
            w.key("message"); entry.write(to: &w)
            w.key("eight_bit_mime"); w.bool(eightBitMIME)
            w.key("smtputf8"); w.bool(smtputf8)
            w.key("headers"); w.string(headers)
            w.key("headers_truncated"); w.bool(headersTruncated)
            w.key("history")
            w.array(history) { w, attempt in
                w.object { w in
                    w.key("at"); w.timestamp(attempt.at)
                    w.key("at_epoch"); w.int(attempt.at)
                    w.key("relay"); w.string(attempt.relay)
                    w.key("recipients")
                    w.array(attempt.recipients) { w, recipient in
                        w.object { w in
                            w.key("address"); w.string(recipient.address)
                            w.key("status"); w.string(recipient.status.rawValue)
                            w.key("reply"); w.string(recipient.reply)
                        }
                    }
                }
            }
        }
    }

    public init(json v: JSONValue) throws(JSONError) {
        self.init(
            entry: try QueueEntry(json: try v.object("message")), eightBitMIME: try v.bool("eight_bit_mime"),
            smtputf8: try v.bool("smtputf8"), headers: try v.string("headers"),
            headersTruncated: try v.bool("headers_truncated"),
            history: try (v.optionalArray("history") ?? []).map { (item) throws(JSONError) in
                Attempt(
                    at: try item.int("at_epoch"), relay: try item.string("relay"),
                    recipients: try item.array("recipients").map { (r) throws(JSONError) in
                        QueueEntry.Recipient(
                            address: try r.string("address"), status: try r.recipientStatus("status"),
                            reply: try r.optionalString("reply"))
                    })
            })
    }
}

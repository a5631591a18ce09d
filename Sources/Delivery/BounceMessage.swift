import Spool

/// A delivery status notification (RFC 3464) telling the envelope sender which recipients failed for good.
///
/// A `multipart/report` (RFC 6522) of three parts, in Postfix's spirit: a short explanation for people, the
/// machine-readable report, and the original message's headers (never its body). When the original came
/// with SMTPUTF8 the report uses the internationalised types of RFC 6533 and may carry UTF-8 as it is;
/// otherwise every octet is ASCII and every line at most 998 octets, so the bounce travels anywhere as 7bit.
public struct BounceMessage: Sendable {
    /// One recipient that will never be delivered, with the reply that decided it.
    public struct FailedRecipient: Sendable, Equatable {
        public var address: String
        /// The reply or reason, e.g. `550 5.1.1 <bob@example.net>: No such user`.
        public var reply: String
        /// The host that gave the reply, when known.
        public var remoteHost: String?
        /// When it was decided, in seconds since the epoch.
        public var at: Double

        public init(address: String, reply: String, remoteHost: String?, at: Double) {
            self.address = address
            self.reply = reply
            self.remoteHost = remoteHost
            self.at = at
        }
    }

    public let reportingHost: String
    public let original: MessageEnvelope
    public let failed: [FailedRecipient]
    public let now: Double
    /// Only the header section is kept: the body never goes back, and a large one is not held in memory.
    let returnedHeaders: ReturnedHeaders

    public init(reportingHost: String, original: MessageEnvelope, originalMessage: [UInt8], failed: [FailedRecipient], now: Double) {
        self.reportingHost = MailText.token(reportingHost)
        self.original = original
        self.failed = failed
        self.now = now
        self.returnedHeaders = ReturnedHeaders(message: originalMessage)
    }

    /// The envelope of the bounce: null sender, the original sender as the only recipient.
    public var recipient: String { original.sender }

    /// Whether the bounce uses RFC 6533's types and may carry UTF-8: exactly when the original was SMTPUTF8,
    /// because only then is the way back known to accept it.
    var international: Bool { original.smtputf8 }

    /// The complete message (headers + multipart/report body), CRLF line endings, ready to be queued.
    public func render() -> [UInt8] {
        let parts = [notificationPart(), reportPart(), headersPart()]
        let boundary = self.boundary(avoiding: parts)
        let eightBit = parts.contains { $0.body.contains { $0 >= 0x80 } || $0.headers.contains { !MailText.isASCII($0) } }
        let headers = [
            "From: MAILER-DAEMON@\(reportingHost) (Mail Delivery System)",
            "To: <\(address(recipient))>",
            "Subject: Undelivered Mail Returned to Sender",
            "Date: \(RFC5322Date.format(now))",
            "Message-ID: <\(RFC5322Date.compact(now)).\(original.id)@\(reportingHost)>",
            // RFC 3834: an automatic reply; well-behaved responders will not answer it.
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=\(international ? "global-delivery-status" : "delivery-status");",
            "\tboundary=\"\(boundary)\"",
            "Content-Transfer-Encoding: \(eightBit ? "8bit" : "7bit")",
        ]
        var out = Self.crlf(headers + ["", "This is a MIME-encapsulated message."])
        for part in parts {
            out += Self.crlf(["", "--" + boundary] + part.headers + [""])
            out += part.body  // ends with CRLF; the empty line after it is the CRLF the next delimiter starts with
        }
        out += Self.crlf(["", "--\(boundary)--"])
        return out
    }

    /// One body part: its header lines and its content, which ends with CRLF.
    struct Part {
        var headers: [String]
        var body: [UInt8]
    }

    /// The lines joined, each ending in CRLF.
    static func crlf(_ lines: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines {
            out += line.utf8
            out += [13, 10]
        }
        return out
    }

    /// Postfix-style `<queue id>.<seconds>/<host>`: the queue id makes it unlikely to appear anywhere
    /// else, and it is checked against everything the parts contain (headers, replies) all the same.
    private func boundary(avoiding parts: [Part]) -> String {
        let host = String(reportingHost.unicodeScalars.filter { Self.bcharsNoSpace.contains($0) }.prefix(40).map(Character.init))
        let base = "\(original.id).\(Int64(now.isFinite ? now.rounded(.down) : 0))/\(host)"
        var candidate = base
        var attempt = 0
        while parts.contains(where: { contains($0, "--" + candidate) }) {
            attempt += 1
            candidate = "\(base).\(attempt)"
        }
        return candidate
    }

    private func contains(_ part: Part, _ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        let haystacks = [part.body] + part.headers.map { Array($0.utf8) }
        return haystacks.contains { bytes in
            bytes.count >= pattern.count && (0...(bytes.count - pattern.count)).contains { start in
                bytes[start..<(start + pattern.count)].elementsEqual(pattern)
            }
        }
    }

    /// RFC 2046 `bcharsnospace`.
    private static let bcharsNoSpace = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?".unicodeScalars)

    /// An address for a header or text: as it is when ASCII or in an international bounce, else in RFC
    /// 6533's `\x{…}` form, so a 7bit bounce stays 7bit (receiving refuses such addresses without
    /// SMTPUTF8, so this is a safety net).
    func address(_ address: String) -> String {
        if international || MailText.isASCII(address) { return MailText.sanitized(address, utf8: true, limit: 1_000) }
        return Self.embeddedUnicode(address)
    }

    /// RFC 6533 `utf-8-addr-xtext`: printable ASCII other than `\`, `+` and `=` stays, the rest becomes `\x{HEX}`.
    static func embeddedUnicode(_ address: String) -> String {
        var out = ""
        for scalar in address.unicodeScalars {
            if scalar.value > 0x20, scalar.value < 0x7F, !"\\+=".unicodeScalars.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "\\x{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }
}

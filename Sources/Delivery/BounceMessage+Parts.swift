import SMTPProtocol
import Spool

extension BounceMessage {
    /// Part 1: for the person who sent the message.
    func notificationPart() -> Part {
        var text = [
            "This is the mail system at host \(reportingHost).",
            "",
            "I'm sorry to have to inform you that your message could not",
            "be delivered to one or more recipients. Its headers are",
            "attached below" + (returnedHeaders.truncated ? " (the first \(ReturnedHeaders.limit / 1024) KiB of them)." : "."),
            "",
            "For further assistance, please send mail to",
            "<postmaster@\(reportingHost)> and include this problem report.",
            "",
            "                   The mail system",
        ]
        for recipient in failed {
            let reply = MailText.sanitized(recipient.reply, utf8: international)
            let said = recipient.remoteHost.map { "host \(MailText.token($0)) said: " } ?? ""
            text.append("")
            text += MailText.wrap(said + reply, first: "<\(address(recipient.address))>:", indent: "    ", width: 76)
        }
        let utf8 = text.contains { !MailText.isASCII($0) }
        return Part(
            headers: [
                "Content-Description: Notification",
                "Content-Type: text/plain; charset=\(utf8 ? "utf-8" : "us-ascii")",
                "Content-Transfer-Encoding: \(utf8 ? "8bit" : "7bit")",
            ],
            body: Self.crlf(text))
    }

    /// Part 2: the RFC 3464 report, one block for the message and one per failed recipient.
    func reportPart() -> Part {
        var fields = ["Reporting-MTA: dns; \(reportingHost)", "X-MailRelay-Queue-ID: \(original.id)"]
        if !original.sender.isEmpty { fields += MailText.field("X-MailRelay-Sender", addressField(original.sender)) }
        fields.append("Arrival-Date: \(RFC5322Date.format(original.receivedAt))")
        for recipient in failed {
            let reply = MailText.sanitized(recipient.reply, utf8: international)
            fields.append("")
            fields += MailText.field("Final-Recipient", addressField(recipient.address))
            fields.append("Action: failed")
            fields.append("Status: \(Self.status(for: reply))")
            if let host = recipient.remoteHost { fields.append("Remote-MTA: dns; \(MailText.token(host))") }
            fields += MailText.field("Diagnostic-Code", "\(Self.diagnosticType(for: reply)); \(reply)")
            fields.append("Last-Attempt-Date: \(RFC5322Date.format(recipient.at))")
        }
        let utf8 = fields.contains { !MailText.isASCII($0) }
        var headers = [
            "Content-Description: Delivery report",
            "Content-Type: message/\(international ? "global-delivery-status" : "delivery-status")",
        ]
        if utf8 { headers.append("Content-Transfer-Encoding: 8bit") }
        return Part(headers: headers, body: Self.crlf(fields))
    }

    /// Part 3: the original header section. RFC 6533's `message/global-headers` when the original was
    /// SMTPUTF8 or its headers hold non-ASCII octets (then base64 unless the bounce may be 8bit), else
    /// `text/rfc822-headers`.
    func headersPart() -> Part {
        let global = international || returnedHeaders.hasNonASCII
        let encoded = returnedHeaders.encoding(eightBitAllowed: international)
        return Part(
            headers: [
                "Content-Description: Undelivered Message Headers",
                "Content-Type: \(global ? "message/global-headers" : "text/rfc822-headers")",
                "Content-Transfer-Encoding: \(encoded.name)",
            ],
            body: encoded.body)
    }

    /// `rfc822; addr`, or RFC 6533's `utf-8; addr` for an address with non-ASCII characters (as it is in
    /// an international report, in its `\x{…}` form otherwise).
    func addressField(_ address: String) -> String {
        MailText.isASCII(address) ? "rfc822; \(MailText.sanitized(address, utf8: false, limit: 1_000))"
            : "utf-8; \(self.address(address))"
    }

    /// The RFC 3463 status for a reply: its enhanced code when it has one (`550 5.1.1 …`), else the class of
    /// its basic code (`421 …` gives 4.0.0: Postfix, too, reports an expired message's last transient reply
    /// with `Action: failed`), else 5.0.0. The reply may be prefixed (`expired after 9 attempts: 421 …`).
    static func status(for reply: String) -> String {
        let tokens = reply.split(whereSeparator: { $0 == " " || $0 == "\t" })
        for (index, token) in tokens.enumerated() {
            // `550`, or `550-5.1.1` as a multi-line reply's earlier lines write it.
            let halves = token.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let code = halves.first, code.utf8.count == 3, code.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let klass = Int(code.prefix(1)), klass == 4 || klass == 5 else { continue }
            let following = halves.count == 2 ? halves[1] : (index + 1 < tokens.count ? tokens[index + 1] : nil)
            if let text = following, let enhanced = EnhancedStatusCode(text), enhanced.klass == klass {
                return enhanced.description
            }
            return "\(klass).0.0"
        }
        return "5.0.0"
    }

    /// `smtp` when the text is an SMTP reply, else relayd's own reason (`X-MailRelay`, as Postfix says
    /// `X-Postfix`), so a reader never parses a sentence of ours as a server's reply.
    static func diagnosticType(for reply: String) -> String {
        let bytes = Array(reply.utf8)
        let isReply = bytes.count >= 3 && (bytes[0] == 52 || bytes[0] == 53) && bytes[1...2].allSatisfy { $0 >= 48 && $0 <= 57 }
            && (bytes.count == 3 || bytes[3] == 32 || bytes[3] == 45)
        return isReply ? "smtp" : "X-MailRelay"
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Builds the trace header prepended to every accepted message (RFC 5321 §4.4).
public enum ReceivedHeader {
    /// `Received: from helo ([ip]) by host (MailRelay) with ESMTP id ID [for <rcpt>]; date` with CRLF endings.
    public static func make(
        clientName: String, clientAddress: String, hostname: String, protocolName: String,
        queueID: String, recipients: [String], date: time_t
    ) -> [UInt8] {
        let from = clientName.isEmpty ? "unknown" : sanitize(clientName)
        // Like Postfix, name the recipient only when there is one: a list would disclose Bcc recipients.
        let forClause = recipients.count == 1 ? "\r\n\tfor <\(recipients[0])>" : ""
        let literal = clientAddress.contains(":") ? "IPv6:\(clientAddress)" : clientAddress  // RFC 5321 §4.1.3
        let text = "Received: from \(from) ([\(literal)])\r\n\tby \(hostname) (MailRelay) with \(protocolName) id \(queueID)\(forClause);\r\n\t\(rfc5322Date(date))\r\n"
        return Array(text.utf8)
    }

    /// The `with` keyword (RFC 3848, RFC 6531): ESMTP after EHLO, then S over TLS and A after AUTH; UTF8SMTP
    /// with the same suffixes for an SMTPUTF8 transaction; SMTP after HELO.
    public static func protocolName(ehlo: Bool, tls: Bool, authenticated: Bool = false, smtputf8: Bool) -> String {
        let suffix = (tls ? "S" : "") + (authenticated ? "A" : "")
        if smtputf8 { return "UTF8SMTP" + suffix }
        guard ehlo else { return "SMTP" }
        return "ESMTP" + suffix
    }

    /// Keeps only printable ASCII, so a hostile HELO cannot break the header.
    static func sanitize(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { (33...126).contains($0.value) && $0 != "(" && $0 != ")" ? $0 : "_" }))
    }

    /// `Fri, 27 Nov 2026 08:50:12 +0000`.
    public static func rfc5322Date(_ time: time_t) -> String {
        var t = time
        var parts = tm()
        gmtime_r(&t, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(parts.tm_mday) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The message `relayctl send-test` submits: a short RFC 5322 message saying who sent it, from where and
/// when, so whoever finds it in a mailbox knows what it is.
public struct TestMessage: Sendable, Equatable {
    /// The envelope and header sender; empty for the null sender.
    public var from: String
    public var to: String
    /// The sending host's name, for the Message-ID and the body.
    public var hostname: String
    /// The user who ran relayctl.
    public var user: String
    /// Seconds since the epoch.
    public var date: Int
    /// Makes the Message-ID unique.
    public var token: String

    public init(from: String, to: String, hostname: String, user: String, date: Int, token: String) {
        self.from = from
        self.to = to
        self.hostname = hostname
        self.user = user
        self.date = date
        self.token = token
    }

    public static let subject = "MailRelay test message"

    /// The message's bytes, CR LF line ends, without the final `.` of the DATA phase. No line starts with a
    /// dot, so it needs no dot-stuffing.
    public var bytes: [UInt8] {
        let lines = [
            "Date: \(Self.rfc5322Date(date))",
            "From: " + (from.isEmpty ? "MAILER-DAEMON@\(hostname)" : from),
            "To: \(to)",
            "Subject: \(Self.subject)",
            "Message-ID: <relayctl.\(token)@\(hostname)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=us-ascii",
            "",
            "This is a test message sent with `relayctl send-test` by \(user) on \(hostname)",
            "at \(Self.rfc5322Date(date)), to check that MailRelay relays mail.",
            "",
            "No need to answer it.",
        ]
        return Array(lines.map { $0 + "\r\n" }.joined().utf8)
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Wed, 01 May 2024 12:00:00 +0000`.
    static func rfc5322Date(_ epochSeconds: Int) -> String {
        var time = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}

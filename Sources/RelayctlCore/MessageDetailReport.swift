import Control

/// `relayctl show ID` for a person: the envelope, state and recipients one fact per line, then the header
/// section as queued (line ends shown as the terminal's). The body is never part of it.
///
///     Queue ID:    0F3A9C2E1B7D4
///     State:       deferred
///     Attempts:    5
///     Next try:    in 12m (2024-05-01T12:15:00Z)
///     Arrived:     2024-05-01T10:00:00Z (2h13m ago) from 10.0.3.7 (EHLO mastodon-sidekiq-0)
///     Size:        4.1K (4198 bytes)
///     From:        <notifications@mast.town>
///     Recipients:
///       bob@example.org    deferred   421 4.7.0 Try again later (2024-05-01T12:03:04Z)
///       carol@example.net  delivered  250 2.0.0 Ok (2024-05-01T10:00:01Z)
///     History:
///       2024-05-01T10:00:01Z via smtp-relay.brevo.com[1.2.3.4]:587
///         bob@example.org    deferred   421 4.7.0 Try again later
///         carol@example.net  delivered  250 2.0.0 Ok
///     Headers:
///     Received: from …
public enum MessageDetailReport {
    /// `now` is the current time in seconds since the epoch.
    public static func lines(_ detail: MessageDetail, now: Double) -> [String] {
        let entry = detail.entry
        var lines = [
            field("Queue ID", entry.id.rawValue),
            field("State", entry.state.rawValue),
            field("Attempts", "\(entry.attempts)"),
        ]
        let next = NextTryText.format(entry, now: now)
        lines.append(field("Next try", entry.nextAttempt.map { "\(next) (\(UTCTimestamp.format($0)))" } ?? next))
        if let failedAt = entry.failedAt {
            lines.append(field("Failed at", "\(UTCTimestamp.format(failedAt)), kept in failed/"))
        }
        let client = entry.client.name.isEmpty ? entry.client.address : "\(entry.client.address) (EHLO \(entry.client.name))"
        lines.append(field("Arrived", "\(UTCTimestamp.format(entry.arrival)) (\(AgeText.format(seconds: entry.ageSeconds)) ago) from \(client)"))
        lines.append(field("Size", "\(SizeText.format(entry.size)) (\(entry.size) bytes)"))
        let options = [detail.eightBitMIME ? "BODY=8BITMIME" : nil, detail.smtputf8 ? "SMTPUTF8" : nil].compactMap { $0 }
        if !options.isEmpty { lines.append(field("Options", options.joined(separator: " "))) }
        lines.append(field("From", "<\(entry.sender)>"))
        lines.append("Recipients:")
        lines += recipientLines(entry.recipients)
        // The attempt's own error (a refused connection, say) is in no recipient's reply.
        if let last = entry.lastReply, !entry.recipients.contains(where: { $0.reply == last }) {
            lines.append(field("Last error", last))
        }
        if !detail.history.isEmpty {
            let shown = detail.history.count < entry.attempts ? " (the latest \(detail.history.count) of \(entry.attempts))" : ""
            lines.append("History:" + shown)
            for attempt in detail.history {
                lines.append("  \(UTCTimestamp.format(attempt.at)) via \(attempt.relay)")
                lines += recipientLines(attempt.recipients.map { QueueEntry.Recipient(address: $0.address, status: $0.status, reply: $0.reply) })
                    .map { "  " + $0 }
            }
        }
        lines.append("Headers:")
        lines += headerLines(detail.headers)
        if detail.headersTruncated {
            lines.append("[header section cut at \(SizeText.format(MessageDetail.headerLimit)); relayctl show --raw has all of it]")
        }
        return lines
    }

    private static func field(_ name: String, _ value: String) -> String {
        QueueTable.pad(name + ":", 13) + value
    }

    /// One aligned line per recipient: address, status, last reply and its time.
    private static func recipientLines(_ recipients: [QueueEntry.Recipient]) -> [String] {
        let width = (recipients.map(\.address.count).max() ?? 0) + 2
        return recipients.map { recipient in
            var line = "  " + QueueTable.pad(recipient.address, width)
            guard let reply = recipient.reply else { return line + recipient.status.rawValue }
            line += QueueTable.pad(recipient.status.rawValue, 11) + reply
            if let at = recipient.at { line += " (\(UTCTimestamp.format(at)))" }
            return line
        }
    }

    /// The header section's lines without their CR LF; the empty line that ends it is left out.
    static func headerLines(_ headers: String) -> [String] {
        // CR LF is one Character in Swift, so it is a separator of its own.
        var lines = headers.split(omittingEmptySubsequences: false) { $0 == "\r\n" || $0 == "\n" }.map(String.init)
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }
}

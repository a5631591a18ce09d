import Control

/// The `relayctl queue` table. Rows are printed as the listing streams in, before the widest value is
/// known, so the columns have fixed widths; a longer value pushes the rest of its row right by one space.
public struct QueueTable: Sendable {
    /// The columns' titles and widths (separating spaces included); TO is last and unpadded.
    static let columns: [(title: String, width: Int)] = [
        ("ID", 15), ("SIZE", 6), ("AGE", 7), ("STATE", 10), ("TRIES", 7), ("NEXT TRY", 10), ("FROM", 26), ("TO", 0),
    ]
    /// Where TO starts: further recipients of a message are indented to it.
    static let recipientIndent = String(repeating: " ", count: columns.dropLast().reduce(0) { $0 + $1.width })

    /// The current time in seconds since the epoch, for NEXT TRY.
    public let now: Double

    public init(now: Double) {
        self.now = now
    }

    /// The title line.
    public static var header: String {
        columns.map { pad($0.title, $0.width) }.joined()
    }

    /// The message's row, then one line per further recipient.
    public func lines(for entry: QueueEntry) -> [String] {
        let cells = [
            entry.id.rawValue,
            SizeText.format(entry.size),
            AgeText.format(seconds: entry.ageSeconds),
            entry.state.rawValue,
            "\(entry.attempts)",
            NextTryText.format(entry, now: now),
            entry.sender.isEmpty ? "<>" : entry.sender,
        ]
        let row = zip(cells, Self.columns).map { Self.pad($0, $1.width) }.joined()
        let recipients = Self.listed(entry).map { recipient in
            recipient.reply.map { "\(recipient.address) (\($0))" } ?? recipient.address
        }
        guard let first = recipients.first else { return [row + "-"] }
        return [row + first] + recipients.dropFirst().map { Self.recipientIndent + $0 }
    }

    /// The recipients still to be delivered; for a failed message, the ones that failed.
    static func listed(_ entry: QueueEntry) -> [QueueEntry.Recipient] {
        entry.recipients.filter { recipient in
            switch recipient.status {
            case .pending, .deferred: entry.state != .failed
            case .failed: entry.state == .failed
            case .delivered: false
            }
        }
    }

    /// `text` filled to `width`, or followed by one space when it is as wide or wider.
    static func pad(_ text: String, _ width: Int) -> String {
        guard width > 0 else { return text }
        let count = text.count
        return count < width ? text + String(repeating: " ", count: width - count) : text + " "
    }
}

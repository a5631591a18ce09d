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
        var text: [UInt8] = []
        append(entry, to: &text)
        return text.split(separator: 10, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    /// Appends the message's row and one line per further recipient, each ending in a newline, as UTF-8.
    /// Built in place, cell by cell: a listing of a hundred thousand messages spends most of its time here
    /// otherwise.
    public func append(_ entry: QueueEntry, to out: inout [UInt8]) {
        Self.append(entry.id.rawValue, width: Self.columns[0].width, to: &out)
        Self.append(SizeText.format(entry.size), width: Self.columns[1].width, to: &out)
        Self.append(AgeText.format(seconds: entry.ageSeconds), width: Self.columns[2].width, to: &out)
        Self.append(entry.state.rawValue, width: Self.columns[3].width, to: &out)
        Self.append(String(entry.attempts), width: Self.columns[4].width, to: &out)
        Self.append(NextTryText.format(entry, now: now), width: Self.columns[5].width, to: &out)
        Self.append(entry.sender.isEmpty ? "<>" : entry.sender, width: Self.columns[6].width, to: &out)
        var first = true
        for recipient in entry.recipients where Self.isListed(recipient, of: entry) {
            if !first { out.append(contentsOf: Self.recipientIndent.utf8) }
            first = false
            out.append(contentsOf: recipient.address.utf8)
            if let reply = recipient.reply {
                out.append(UInt8(ascii: " "))
                out.append(UInt8(ascii: "("))
                out.append(contentsOf: reply.utf8)
                out.append(UInt8(ascii: ")"))
            }
            out.append(10)
        }
        if first {
            out.append(UInt8(ascii: "-"))
            out.append(10)
        }
    }

    static func isListed(_ recipient: QueueEntry.Recipient, of entry: QueueEntry) -> Bool {
        switch recipient.status {
        case .pending, .deferred: entry.state != .failed
        case .failed: entry.state == .failed
        case .delivered: false
        }
    }

    /// `text` filled to `width`, or followed by one space when it is as wide or wider.
    static func pad(_ text: String, _ width: Int) -> String {
        var out: [UInt8] = []
        append(text, width: width, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `pad`, appended to `out` as UTF-8.
    static func append(_ text: String, width: Int, to out: inout [UInt8]) {
        var ascii = true
        for byte in text.utf8 {
            out.append(byte)
            ascii = ascii && byte < 0x80
        }
        guard width > 0 else { return }
        let count = ascii ? text.utf8.count : text.count
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: count < width ? width - count : 1))
    }
}

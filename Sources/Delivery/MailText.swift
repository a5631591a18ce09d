/// Text for mail that relayd writes itself: made safe for a header or a 7bit body, and wrapped or folded so
/// that no line comes near RFC 5322's limit of 998 octets.
enum MailText {
    /// A line this long is cut even inside a word; with its indent it stays far below 998 octets.
    static let longestPiece = 900

    /// `text` with line breaks and other control characters turned into spaces and, unless `utf8` is
    /// allowed, every non-ASCII character into `?`; cut to `limit` octets with a note saying so.
    static func sanitized(_ text: String, utf8: Bool, limit: Int = 2_048) -> String {
        var out = String.UnicodeScalarView()
        var octets = 0
        for scalar in text.unicodeScalars {
            let safe: Unicode.Scalar
            switch scalar.value {
            case 0x20...0x7E: safe = scalar
            case 0...0x1F, 0x7F...0x9F: safe = " "
            default: safe = utf8 ? scalar : "?"
            }
            octets += UTF8.width(safe)
            if octets > limit {
                out.append(contentsOf: " [cut short]".unicodeScalars)
                break
            }
            out.append(safe)
        }
        return trimmed(String(out))
    }

    /// Printable ASCII without spaces: for host names that end up in headers and fields.
    static func token(_ text: String) -> String {
        let kept = text.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F }
        return kept.isEmpty ? "unknown" : String(String.UnicodeScalarView(kept.prefix(255)))
    }

    /// `first` followed by `text`'s words, wrapped before `width` octets; continuation lines start with
    /// `indent`. Runs of spaces become one. A word longer than `longestPiece` is cut into pieces (for a
    /// header field, unfolding then shows a space inside it: better than a line no MTA will carry).
    static func wrap(_ text: String, first: String, indent: String, width: Int = 78) -> [String] {
        var lines: [String] = []
        var line = first
        var lineHasWord = false  // a line is never broken before its first word
        for word in text.split(separator: " ") {
            for piece in pieces(of: word) {
                if lineHasWord, line.utf8.count + 1 + piece.utf8.count > width {
                    lines.append(line)
                    line = indent + piece
                } else {
                    line += line.isEmpty ? piece : " " + piece
                }
                lineHasWord = true
            }
        }
        lines.append(line)
        return lines
    }

    /// A header field folded at spaces (RFC 5322 §2.2.3): `Name: value` with continuation lines.
    static func field(_ name: String, _ value: String) -> [String] {
        wrap(value, first: name + ":", indent: " ")
    }

    private static func pieces(of word: Substring) -> [String] {
        guard word.utf8.count > longestPiece else { return [String(word)] }
        var pieces: [String] = []
        var current = String.UnicodeScalarView()
        var octets = 0
        for scalar in word.unicodeScalars {
            let size = UTF8.width(scalar)
            if octets + size > longestPiece {
                pieces.append(String(current))
                current = String.UnicodeScalarView()
                octets = 0
            }
            current.append(scalar)
            octets += size
        }
        pieces.append(String(current))
        return pieces
    }

    static func isASCII(_ text: some StringProtocol) -> Bool { text.utf8.allSatisfy { $0 < 0x80 } }

    private static func trimmed(_ text: String) -> String {
        var rest = Substring(text)
        while rest.first == " " { rest.removeFirst() }
        while rest.last == " " { rest.removeLast() }
        return String(rest)
    }
}

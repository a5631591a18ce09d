/// One SMTP reply as `SMTPSubmission` read it: the code and each line's text after it.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    /// The text of each line after `250-` / `250 `.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    /// The reply as relayd logs replies: `250 2.0.0 Ok: queued as 0F3A9C2E1B7D4` (lines joined by ` / `).
    public var description: String {
        lines.map { $0.isEmpty ? "\(code)" : "\(code) \($0)" }.joined(separator: " / ")
    }

    /// 2xx.
    public var isPositive: Bool { (200..<300).contains(code) }

    /// The word after `queued as ` in the reply, e.g. relayd's `250 2.0.0 Ok: queued as 0F3A9C2E1B7D4`.
    public var queuedAs: String? {
        for line in lines {
            guard let range = line.firstRange(of: "queued as ") else { continue }
            let word = line[range.upperBound...].prefix { $0 != " " }
            if !word.isEmpty { return String(word) }
        }
        return nil
    }
}

/// Log text for actions. A `.send` is shown as its command lines, but only commands known to carry no secret are
/// shown as they are: AUTH keeps its mechanism name, and anything else (LOGIN's base64 username and password)
/// becomes `<redacted>`, so logging every action never leaks a credential.
extension ClientSession.Action: CustomStringConvertible {
    public var description: String {
        switch self {
        case .send(let bytes): "send(\(Self.loggable(bytes)))"
        case .startTLS: "startTLS"
        case .sendBody: "sendBody"
        case .ready: "ready"
        case .completed(let result): "completed(\(result.replies.map(\.description).joined(separator: "; ")))"
        case .failed(let failure, let inFlight): "failed(\(failure)\(inFlight == nil ? "" : "; transaction in flight"))"
        case .close: "close"
        }
    }

    private static let harmlessVerbs: Set<String> = ["EHLO", "HELO", "STARTTLS", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "."]

    /// The command lines of one write, joined with " | ".
    static func loggable(_ bytes: [UInt8]) -> String {
        // "\r\n" is one Character in Swift, so this splits at CRLF.
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\r\n")
        return lines.map { line in
            let words = line.split(separator: " ", maxSplits: 2)
            let verb = words.first.map { $0.uppercased() } ?? ""
            if harmlessVerbs.contains(verb) { return String(line) }
            if verb == "AUTH", words.count > 1 { return "AUTH \(words[1])" + (words.count > 2 ? " <redacted>" : "") }
            return "<redacted>"
        }.joined(separator: " | ")
    }
}

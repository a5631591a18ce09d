/// A server reply: a three-digit code, an optional enhanced status code, and one or more lines of text.
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    public var code: Int
    public var enhanced: EnhancedStatusCode?
    public var lines: [String]

    public init(_ code: Int, _ enhanced: EnhancedStatusCode?, _ text: String) {
        self.code = code
        self.enhanced = enhanced
        self.lines = [text]
    }

    public init(_ code: Int, _ enhanced: EnhancedStatusCode?, lines: [String]) {
        precondition(!lines.isEmpty, "a reply has at least one line")
        self.code = code
        self.enhanced = enhanced
        self.lines = lines
    }

    /// 2xx.
    public var isPositive: Bool { (200..<300).contains(code) }
    /// 4xx.
    public var isTransient: Bool { (400..<500).contains(code) }
    /// 5xx.
    public var isPermanent: Bool { (500..<600).contains(code) }

    /// The reply as it goes on the wire, each line ending in CRLF.
    public var wireBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 * lines.count)
        for (index, line) in lines.enumerated() {
            out.append(contentsOf: String(code).utf8)
            out.append(index == lines.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if let enhanced {
                out.append(contentsOf: enhanced.description.utf8)
                out.append(UInt8(ascii: " "))
            }
            out.append(contentsOf: line.utf8)
            out.append(contentsOf: [13, 10])
        }
        return out
    }

    /// One line for logs: `550 5.1.1 text`.
    public var description: String {
        let prefix = enhanced.map { "\(code) \($0) " } ?? "\(code) "
        return prefix + lines.joined(separator: " / ")
    }
}

/// Cuts what an SMTP server sends into replies: lines ended by CR LF (a bare LF is tolerated), a multi-line
/// reply's `250-` lines gathered up to its `250 ` line.
public struct SMTPReplyReader: Sendable {
    /// Longer lines are not SMTP (RFC 5321 allows 512 bytes); the limit stops a wrong server filling memory.
    static let maximumLineLength = 4096

    private var buffer: [UInt8] = []
    private var code: Int?
    private var lines: [String] = []

    public init() {}

    /// Adds bytes as they arrived.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply among the bytes added; nil while more are needed.
    public mutating func next() throws(SMTPSubmissionError) -> SMTPReply? {
        while let newline = buffer.firstIndex(of: 10) {
            var line = buffer[..<newline]
            if line.last == 13 { line = line.dropLast() }
            buffer.removeSubrange(...newline)
            let text = String(decoding: line, as: UTF8.self)
            let separator = line.count > 3 ? line[line.startIndex + 3] : nil
            guard line.count >= 3, line.prefix(3).allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let lineCode = Int(text.prefix(3)),
                  separator == nil || separator == UInt8(ascii: " ") || separator == UInt8(ascii: "-"),
                  code == nil || code == lineCode
            else { throw .malformedReply(text) }
            code = lineCode
            lines.append(String(decoding: line.dropFirst(4), as: UTF8.self))
            if separator != UInt8(ascii: "-") {
                let reply = SMTPReply(code: lineCode, lines: lines)
                code = nil
                lines = []
                return reply
            }
        }
        guard buffer.count <= Self.maximumLineLength else {
            throw .malformedReply(String(decoding: buffer.prefix(80), as: UTF8.self) + "…")
        }
        return nil
    }
}

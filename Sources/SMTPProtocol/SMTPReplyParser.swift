/// Splits the upstream's byte stream into replies (RFC 5321 §4.2: "250-..." continuation lines, "250 ..." last line).
///
/// Lines end at LF with an optional CR before it: upstreams that send bare LF are accepted (be liberal in what
/// you accept); NUL is not. The RFC 3463 enhanced status code that starts the first line ("550 5.1.1 ...") becomes
/// `SMTPReply.enhanced` and is taken off every line that carries it. Memory stays bounded: a line may be at most
/// `maxLineLength` octets (its line end not counted) and a reply at most `maxLines` lines. After a failure the
/// parser keeps throwing the same failure: a stream that lost its framing cannot be trusted again.
public struct SMTPReplyParser: Sendable {
    /// Why the stream cannot be read as replies.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed(String)

        public var description: String {
            switch self {
            case .malformed(let why): "malformed reply from upstream: \(why)"
            }
        }
    }

    public let maxLineLength: Int
    public let maxLines: Int

    private var storage: [UInt8] = []
    /// The first byte of the reply being assembled: everything before it was returned.
    private var replyStart = 0
    /// The first byte not yet read as a line.
    private var lineStart = 0
    /// The lines of the reply being assembled, their code and their text (code and separator removed).
    private var pendingCode: Int?
    private var pendingLines: [String] = []
    private var failure: Failure?

    public init(maxLineLength: Int = 4096, maxLines: Int = 100) {
        self.maxLineLength = maxLineLength
        self.maxLines = maxLines
    }

    public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        storage.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        storage.append(contentsOf: bytes)
    }

    /// Bytes received but not yet part of a returned reply (after STARTTLS's 220 this must be 0, else the peer
    /// injected plaintext).
    public var bufferedByteCount: Int { storage.count - replyStart }

    /// The next complete reply, nil if more bytes are needed. Throws on a malformed line (no 3-digit code, mixed
    /// codes within one reply, line too long, too many lines).
    public mutating func next() throws(SMTPReplyParser.Failure) -> SMTPReply? {
        if let failure { throw failure }
        do {
            return try nextReply()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func nextReply() throws(Failure) -> SMTPReply? {
        while let lf = storage[lineStart...].firstIndex(of: 10) {
            var end = lf
            if end > lineStart, storage[end - 1] == 13 { end -= 1 }
            let line = storage[lineStart..<end]
            lineStart = lf + 1
            guard line.count <= maxLineLength else {
                throw .malformed("line longer than \(maxLineLength) octets")
            }
            let (code, isLast, text) = try Self.split(line)
            if let pendingCode, pendingCode != code {
                throw .malformed("reply code \(code) inside a \(pendingCode) reply")
            }
            pendingCode = code
            pendingLines.append(text)
            if isLast {
                return finishReply(code: code)
            }
            guard pendingLines.count < maxLines else {
                throw .malformed("reply longer than \(maxLines) lines")
            }
        }
        // No line end yet: past the limit (and a CR that may precede the LF) the line is too long whatever follows.
        if storage.count - lineStart > maxLineLength + 1 {
            throw .malformed("line longer than \(maxLineLength) octets")
        }
        return nil
    }

    /// Code, whether this is the reply's last line, and the text after the separator.
    private static func split(_ line: ArraySlice<UInt8>) throws(Failure) -> (Int, Bool, String) {
        if line.contains(0) { throw .malformed("NUL in reply line") }
        let digits = line.prefix(3)
        guard digits.count == 3, digits.allSatisfy({ (48...57).contains($0) }),
              let first = digits.first, (50...53).contains(first)  // RFC 5321 §4.2: the first digit is 2 to 5
        else {
            throw .malformed("no reply code in \"\(printable(line))\"")
        }
        let code = digits.reduce(0) { $0 * 10 + Int($1 - 48) }
        let rest = line.dropFirst(3)
        guard let separator = rest.first else { return (code, true, "") }  // "250" alone is a last line
        let text = String(decoding: rest.dropFirst(), as: UTF8.self)
        switch separator {
        case UInt8(ascii: " "): return (code, true, text)
        case UInt8(ascii: "-"): return (code, false, text)
        default: throw .malformed("no space or hyphen after the code in \"\(printable(line))\"")
        }
    }

    /// Builds the reply from the pending lines and forgets the bytes it came from.
    private mutating func finishReply(code: Int) -> SMTPReply {
        // RFC 3463: the enhanced code follows the reply code, its class equal to the reply's first digit; RFC 2034
        // puts it on every line. Only the first line's code counts, and only that code is stripped elsewhere.
        // Bytes, not Characters: a combining mark after the space would make " " and the mark one Character
        // and hide a code that is plainly on the wire (found by scripts/fuzz).
        let space = UInt8(ascii: " ")
        let firstWord = String(decoding: pendingLines[0].utf8.prefix { $0 != space }, as: UTF8.self)
        let enhanced = EnhancedStatusCode(firstWord[...]).flatMap { $0.klass == code / 100 ? $0 : nil }
        var lines = pendingLines
        if let enhanced {
            let prefix = Array(enhanced.description.utf8)
            lines = lines.map { line in
                let bytes = Array(line.utf8)
                guard bytes.starts(with: prefix) else { return line }
                if bytes.count == prefix.count { return "" }
                return bytes[prefix.count] == space ? String(decoding: bytes[(prefix.count + 1)...], as: UTF8.self) : line
            }
        }
        pendingCode = nil
        pendingLines = []
        replyStart = lineStart
        if replyStart == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 64 * 1024)
            replyStart = 0
            lineStart = 0
        } else if replyStart > 16 * 1024 {
            storage.removeFirst(replyStart)
            lineStart -= replyStart
            replyStart = 0
        }
        return SMTPReply(code, enhanced, lines: lines)
    }

    /// Upstream text quoted in a failure: printable ASCII only, and short.
    private static func printable(_ line: ArraySlice<UInt8>) -> String {
        String(decoding: line.prefix(40).map { (32...126).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

/// Reads one HTTP/1.x request head from bytes as they arrive: pure, no I/O.
///
/// Append bytes, then call `parse()`: nil means the head is not complete yet, a head means it is (bytes after
/// it, a body, are ignored: the admin endpoint takes no bodies), an error means the request is refused. Limits
/// are checked as bytes arrive, so a client cannot make it buffer more than about
/// `maximumLineLength × (maximumFieldCount + 2)` bytes.
public struct HTTPRequestParser: Sendable {
    public static let defaultMaximumLineLength = 8 * 1024
    public static let defaultMaximumFieldCount = 64

    public let maximumLineLength: Int
    public let maximumFieldCount: Int
    private var buffer: [UInt8] = []
    /// Where the search for the next line end resumes, so each byte is scanned once.
    private var scanned = 0
    private var lineStart = 0
    private var skippedEmptyLine = false
    private var requestLine: (method: String, target: String, version: HTTPVersion)?
    private var fields: [HTTPField] = []
    private var result: Result<HTTPRequestHead, HTTPParseError>?

    public init(
        maximumLineLength: Int = HTTPRequestParser.defaultMaximumLineLength,
        maximumFieldCount: Int = HTTPRequestParser.defaultMaximumFieldCount
    ) {
        self.maximumLineLength = maximumLineLength
        self.maximumFieldCount = maximumFieldCount
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        guard result == nil else { return }
        buffer.append(contentsOf: bytes)
    }

    /// The head once complete; nil while more bytes are needed.
    public mutating func parse() throws(HTTPParseError) -> HTTPRequestHead? {
        if result == nil { result = step() }
        switch result {
        case .success(let head): return head
        case .failure(let error): throw error
        case nil: return nil
        }
    }

    /// Consumes every complete line; a final result, or nil when waiting for more.
    private mutating func step() -> Result<HTTPRequestHead, HTTPParseError>? {
        while true {
            guard let lf = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) else {
                scanned = buffer.count
                // An unfinished line already over the limit (+1 for a CR still to come) will never fit.
                if buffer.count - lineStart > maximumLineLength + 1 { return .failure(.lineTooLong(limit: maximumLineLength)) }
                return nil
            }
            scanned = lf + 1
            guard lf > lineStart, buffer[lf - 1] == UInt8(ascii: "\r") else { return .failure(.bareLineFeed) }
            let line = buffer[lineStart..<(lf - 1)]
            lineStart = lf + 1
            if line.count > maximumLineLength { return .failure(.lineTooLong(limit: maximumLineLength)) }
            if let outcome = take(line) { return outcome }
        }
    }

    /// Handles one line without its CRLF; a final result, or nil to go on.
    private mutating func take(_ line: ArraySlice<UInt8>) -> Result<HTTPRequestHead, HTTPParseError>? {
        guard let request = requestLine else {
            // RFC 9112 §2.2: ignore at least one empty line before the request line (a client's stray CRLF);
            // exactly one, so a stream of CRLFs cannot keep the connection busy and the buffer growing.
            if line.isEmpty, !skippedEmptyLine {
                skippedEmptyLine = true
                return nil
            }
            guard let parsed = Self.requestLine(line) else { return .failure(.malformedRequestLine) }
            guard parsed.version == .http1_0 || parsed.version == .http1_1 else { return .failure(.unsupportedVersion) }
            requestLine = parsed
            return nil
        }
        if line.isEmpty {
            let head = HTTPRequestHead(method: request.method, target: request.target, version: request.version, fields: fields)
            if head.version == .http1_1, head.value(of: "Host") == nil { return .failure(.missingHost) }
            return .success(head)
        }
        guard fields.count < maximumFieldCount else { return .failure(.tooManyFields(limit: maximumFieldCount)) }
        guard let field = Self.field(line) else { return .failure(.malformedField) }
        fields.append(field)
        return nil
    }

    /// `method SP target SP HTTP/d.d`, exactly one space between the parts.
    private static func requestLine(_ line: ArraySlice<UInt8>) -> (method: String, target: String, version: HTTPVersion)? {
        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        let method = parts[0], target = parts[1], version = parts[2]
        guard !method.isEmpty, method.allSatisfy(isTokenCharacter) else { return nil }
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        guard let parsedVersion = Self.version(version) else { return nil }
        return (String(decoding: method, as: UTF8.self), String(decoding: target, as: UTF8.self), parsedVersion)
    }

    /// `HTTP/` digit `.` digit.
    private static func version(_ bytes: ArraySlice<UInt8>) -> HTTPVersion? {
        let text = Array(bytes)
        guard text.count == 8, text[0..<5].elementsEqual("HTTP/".utf8), text[6] == UInt8(ascii: "."),
              isDigit(text[5]), isDigit(text[7]) else { return nil }
        return HTTPVersion(major: Int(text[5] - UInt8(ascii: "0")), minor: Int(text[7] - UInt8(ascii: "0")))
    }

    /// `name: value` with optional whitespace around the value; no space before the colon (RFC 9112 §5.1).
    private static func field(_ line: ArraySlice<UInt8>) -> HTTPField? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenCharacter) else { return nil }
        var value = line[(colon + 1)...]
        // Obsolete folding and controls are refused; visible characters, SP, HTAB and obs-text are fine.
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { return nil }
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        return HTTPField(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// RFC 9110 §5.6.2 tchar.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return tokenPunctuation.contains(byte)
        }
    }

    private static let tokenPunctuation = Set("!#$%&'*+-.^_`|~".utf8)
}

import Admin
import Testing

@Suite("HTTPRequestParser")
struct HTTPRequestParserTests {
    /// Parses `text` fed in one piece.
    static func parse(_ text: String) throws(HTTPParseError) -> HTTPRequestHead? {
        try parse(Array(text.utf8))
    }

    static func parse(_ bytes: [UInt8], parser: HTTPRequestParser = HTTPRequestParser()) throws(HTTPParseError) -> HTTPRequestHead? {
        var parser = parser
        parser.append(bytes)
        return try parser.parse()
    }

    static func error(_ text: String) -> HTTPParseError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func aSimpleGetWithHost() throws {
        let head = try #require(try Self.parse("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9025\r\nAccept: */*\r\n\r\n"))
        #expect(head.method == "GET")
        #expect(head.target == "/metrics")
        #expect(head.version == .http1_1)
        #expect(head.fields == [.init(name: "Host", value: "127.0.0.1:9025"), .init(name: "Accept", value: "*/*")])
    }

    @Test func http10NeedsNoHost() throws {
        let head = try #require(try Self.parse("HEAD /livez HTTP/1.0\r\n\r\n"))
        #expect(head.method == "HEAD")
        #expect(head.version == .http1_0)
        #expect(head.fields.isEmpty)
    }

    @Test func http11WithoutHostIsRefused() {
        #expect(Self.error("GET / HTTP/1.1\r\n\r\n") == .missingHost)
    }

    @Test func anIncompleteHeadAsksForMore() throws {
        #expect(try Self.parse("GET /livez HTTP/1.1\r\nHost: x\r\n") == nil)
        #expect(try Self.parse("GET /livez HTTP/1.1\r") == nil)
        #expect(try Self.parse("") == nil)
    }

    @Test func byteByByteGivesTheSameHead() throws {
        let text = "GET /readyz?verbose=1 HTTP/1.1\r\nHost: a\r\nUser-Agent:  curl/8 \t\r\n\r\n"
        var parser = HTTPRequestParser()
        var head: HTTPRequestHead?
        for (index, byte) in text.utf8.enumerated() {
            parser.append([byte])
            head = try parser.parse()
            if index < text.utf8.count - 1 { #expect(head == nil) }
        }
        #expect(head == (try Self.parse(text)))
        #expect(head?.path == "/readyz")
        #expect(head?.value(of: "user-agent") == "curl/8")
        #expect(head?.value(of: "HOST") == "a")
        #expect(head?.value(of: "Accept") == nil)
    }

    @Test func bytesAfterTheHeadAreIgnored() throws {
        let head = try #require(try Self.parse("GET / HTTP/1.0\r\n\r\nGET /other HTTP/1.0\r\n\r\n"))
        #expect(head.target == "/")
    }

    @Test func oneEmptyLineBeforeTheRequestLineIsIgnored() throws {
        #expect(try Self.parse("\r\nGET / HTTP/1.0\r\n\r\n")?.target == "/")
        #expect(Self.error("\r\n\r\nGET / HTTP/1.0\r\n\r\n") == .malformedRequestLine, "but only one")
    }

    @Test(arguments: [
        "GET / HTTP/1.1\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\n",
        "\n",
        "GET / HTTP/1.0\n\n",
    ])
    func aBareLineFeedIsRefused(_ text: String) {
        #expect(Self.error(text) == .bareLineFeed)
    }

    @Test(arguments: [
        "EHLO client.example\r\n",
        "HELO x\r\n",
        "GET /\r\n",
        "GET  / HTTP/1.1\r\n",
        "GET / HTTP/1.1 \r\n",
        "GET /a b HTTP/1.1\r\n",
        " GET / HTTP/1.1\r\n",
        "G@T / HTTP/1.1\r\n",
        "GET / HTTP/1\r\n",
        "GET / HTTP/1.10\r\n",
        "GET / http/1.1\r\n",
        "GET /\u{7F} HTTP/1.1\r\n",
        "GET /\r HTTP/1.1\r\n",
        "\u{0}\u{1}\u{2}\r\n",
        "\u{16}\u{3}\u{1}\u{0}\r\n",
        "GET / HTTP/1.1\r\r\n",
    ])
    func garbageIsAMalformedRequestLine(_ text: String) {
        #expect(Self.error(text) == .malformedRequestLine)
    }

    @Test(arguments: ["GET / HTTP/2.0\r\n", "GET / HTTP/0.9\r\n", "GET / HTTP/1.2\r\n", "PRI * HTTP/2.0\r\n"])
    func otherVersionsAreRefused(_ text: String) {
        #expect(Self.error(text) == .unsupportedVersion)
    }

    @Test(arguments: [
        "Host : a",          // space before the colon
        " folded",           // obsolete line folding
        "\tfolded",
        "NoColon",
        ": empty-name",
        "Na me: x",
        "X: a\u{0}b",
        "X: a\rb",
        "X: \u{7F}",
    ])
    func malformedFieldsAreRefused(_ field: String) {
        #expect(Self.error("GET / HTTP/1.1\r\nHost: a\r\n\(field)\r\n\r\n") == .malformedField)
    }

    @Test func fieldValuesMayBeEmptyOrCarryNonASCII() throws {
        let head = try #require(try Self.parse("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Latin: caf\u{E9}\r\n\r\n"))
        #expect(head.value(of: "X-Empty") == "")
        #expect(head.value(of: "X-Latin") == "caf\u{E9}")
    }

    @Test func aLineOfExactlyTheLimitIsAccepted() throws {
        let target = "/" + String(repeating: "a", count: 8192 - "GET  HTTP/1.0".count - 1)
        let line = "GET \(target) HTTP/1.0"
        #expect(line.utf8.count == 8192)
        #expect(try Self.parse(line + "\r\n\r\n")?.target == target)
    }

    @Test func aLongerLineIsRefusedEvenBeforeItEnds() {
        let target = "/" + String(repeating: "a", count: 8192 - "GET  HTTP/1.0".count)
        #expect(Self.error("GET \(target) HTTP/1.0\r\n\r\n") == .lineTooLong(limit: 8192))
        // No line end yet, but already too long to ever fit: refused without waiting for more.
        #expect(Self.error("GET /" + String(repeating: "a", count: 9000)) == .lineTooLong(limit: 8192))
        #expect(Self.error("GET / HTTP/1.1\r\nX: " + String(repeating: "b", count: 10_000)) == .lineTooLong(limit: 8192))
    }

    @Test func aMegabyteWithoutLineEndIsRefusedAtTheLimit() {
        var parser = HTTPRequestParser()
        var refused: HTTPParseError?
        var fed = 0
        while refused == nil, fed < 1 << 20 {
            parser.append([UInt8](repeating: UInt8(ascii: "x"), count: 1024))
            fed += 1024
            do { _ = try parser.parse() } catch { refused = error }
        }
        #expect(refused == .lineTooLong(limit: 8192))
        #expect(fed <= 8192 + 2048)
    }

    @Test func theFieldCountIsLimited() throws {
        let fields = (1...63).map { "X-\($0): v\r\n" }.joined()
        #expect(try Self.parse("GET / HTTP/1.1\r\nHost: a\r\n\(fields)\r\n")?.fields.count == 64)
        #expect(Self.error("GET / HTTP/1.1\r\nHost: a\r\n\(fields)X-Last: v\r\n\r\n") == .tooManyFields(limit: 64))
    }

    @Test func limitsAreConfigurable() {
        let parser = HTTPRequestParser(maximumLineLength: 16, maximumFieldCount: 1)
        #expect(throws: HTTPParseError.lineTooLong(limit: 16)) {
            try Self.parse(Array("GET /0123456789ab HTTP/1.0\r\n\r\n".utf8), parser: parser)
        }
        #expect(throws: HTTPParseError.tooManyFields(limit: 1)) {
            try Self.parse(Array("GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\n\r\n".utf8), parser: parser)
        }
    }

    @Test func anErrorStaysAnError() {
        var parser = HTTPRequestParser()
        parser.append(Array("BAD\r\n".utf8))
        #expect(throws: HTTPParseError.malformedRequestLine) { try parser.parse() }
        parser.append(Array("GET / HTTP/1.0\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.malformedRequestLine) { try parser.parse() }
    }

    @Test func methodsKeepTheirCase() throws {
        #expect(try Self.parse("get / HTTP/1.0\r\n\r\n")?.method == "get")
    }
}

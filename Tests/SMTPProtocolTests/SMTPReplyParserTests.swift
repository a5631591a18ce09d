import SMTPProtocol
import Testing

/// Every reply the parser returns for `input` fed in the chunks ending at `cuts`, or the failure that stopped it.
private func parse(_ input: [UInt8], cuts: [Int]? = nil, parser: SMTPReplyParser = SMTPReplyParser())
    -> (replies: [SMTPReply], failure: SMTPReplyParser.Failure?, buffered: Int)
{
    var parser = parser
    var replies: [SMTPReply] = []
    var start = 0
    do {
        for end in cuts ?? [input.count] {
            parser.append(Array(input[start..<end]))
            start = end
            while let reply = try parser.next() { replies.append(reply) }
        }
    } catch {
        return (replies, error, parser.bufferedByteCount)
    }
    return (replies, nil, parser.bufferedByteCount)
}

private func parse(_ text: String) -> (replies: [SMTPReply], failure: SMTPReplyParser.Failure?, buffered: Int) {
    parse(bytes(text))
}

@Suite("SMTPReplyParser")
struct SMTPReplyParserTests {
    static let wellFormed: [(String, [SMTPReply])] = [
        ("220 mx.example ESMTP\r\n", [SMTPReply(220, nil, "mx.example ESMTP")]),
        ("250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n", [SMTPReply(250, nil, lines: ["mx.example", "PIPELINING", "8BITMIME"])]),
        ("250 2.1.0 Ok\r\n", [SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Ok")]),
        // RFC 2034 §4: each line carries the code; it is taken off every line.
        ("550-5.1.1 no such user\r\n550 5.1.1 try another\r\n",
         [SMTPReply(550, EnhancedStatusCode(5, 1, 1), lines: ["no such user", "try another"])]),
        // A line without the code keeps its text as it is.
        ("550-5.1.1 no such user\r\n550 see https://x.example\r\n",
         [SMTPReply(550, EnhancedStatusCode(5, 1, 1), lines: ["no such user", "see https://x.example"])]),
        // A different code on a later line is text, not stripped.
        ("451-4.3.0 first\r\n451 4.7.1 second\r\n", [SMTPReply(451, EnhancedStatusCode(4, 3, 0), lines: ["first", "4.7.1 second"])]),
        // The enhanced code's class must match the reply's first digit.
        ("250 5.1.1 odd\r\n", [SMTPReply(250, nil, "5.1.1 odd")]),
        ("354 2.0.0 go\r\n", [SMTPReply(354, nil, "2.0.0 go")]),
        ("250 2.0.0\r\n", [SMTPReply(250, EnhancedStatusCode(2, 0, 0), "")]),
        ("250 2.0.0Ok\r\n", [SMTPReply(250, nil, "2.0.0Ok")]),
        ("250 2.0 Ok\r\n", [SMTPReply(250, nil, "2.0 Ok")]),
        // RFC 5321 §4.2: the text is optional.
        ("250\r\n", [SMTPReply(250, nil, "")]),
        ("250-\r\n250 \r\n", [SMTPReply(250, nil, lines: ["", ""])]),
        // Bare LF, and mixed line ends, from liberal upstreams.
        ("250-mx.example\n250 SIZE 1000\n", [SMTPReply(250, nil, lines: ["mx.example", "SIZE 1000"])]),
        ("250-a\r\n250 b\n", [SMTPReply(250, nil, lines: ["a", "b"])]),
        // Several replies in one read (pipelining).
        ("250 2.1.0 Ok\r\n550 5.1.1 unknown\r\n354 go ahead\r\n",
         [SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Ok"), SMTPReply(550, EnhancedStatusCode(5, 1, 1), "unknown"), SMTPReply(354, nil, "go ahead")]),
        // Non-ASCII text is kept (invalid UTF-8 becomes U+FFFD).
        ("550 5.1.1 <j\u{F6}rg@x.example> unknown\r\n", [SMTPReply(550, EnhancedStatusCode(5, 1, 1), "<j\u{F6}rg@x.example> unknown")]),
        ("250 a\u{FFFD}b\r\n", [SMTPReply(250, nil, "a\u{FFFD}b")]),
        // A CR inside a line is text.
        ("250 a\rb\r\n", [SMTPReply(250, nil, "a\rb")]),
    ]

    @Test("well-formed replies", arguments: wellFormed)
    func wellFormedReplies(input: String, expected: [SMTPReply]) {
        let result = parse(input)
        #expect(result.failure == nil)
        #expect(result.replies == expected)
        #expect(result.buffered == 0)
    }

    @Test("invalid UTF-8 in text becomes the replacement character")
    func invalidUTF8() {
        let result = parse(bytes("250 a") + [0xFF] + bytes("b\r\n"))
        #expect(result.replies == [SMTPReply(250, nil, "a\u{FFFD}b")])
    }

    static let malformed: [(String, String)] = [
        ("no code", "hello\r\n"),
        ("two digits", "25 Ok\r\n"),
        ("empty line", "\r\n"),
        ("1xx does not exist in SMTP", "150 Ok\r\n"),
        ("6xx does not exist", "650 Ok\r\n"),
        ("letters in the code", "2a0 Ok\r\n"),
        ("four digits", "2500 Ok\r\n"),
        ("no separator", "250Ok\r\n"),
        ("tab as separator", "250\tOk\r\n"),
        ("mixed codes in one reply", "250-mx.example\r\n251 PIPELINING\r\n"),
        ("NUL in the text", "250 O\u{0}k\r\n"),
        ("a good reply, then garbage", "250 Ok\r\nXYZ\r\n"),
    ]

    @Test("malformed lines throw", arguments: malformed)
    func malformedLines(name: String, input: String) {
        let result = parse(input)
        guard case .malformed(let why)? = result.failure else {
            Issue.record("\(name): no failure, replies \(result.replies)")
            return
        }
        #expect(!why.isEmpty)
    }

    @Test("a failure sticks: later input does not revive the stream")
    func stickyFailure() {
        var parser = SMTPReplyParser()
        parser.append(bytes("250-a\r\n251 b\r\n"))
        #expect(throws: SMTPReplyParser.Failure.self) { try parser.next() }
        parser.append(bytes("250 Ok\r\n"))
        #expect(throws: SMTPReplyParser.Failure.self) { try parser.next() }
    }

    @Test("the failure reads as one line without the upstream's control characters")
    func failureDescription() {
        let result = parse("\u{1B}[31mhello\r\n")
        let text = result.failure?.description ?? ""
        #expect(text.hasPrefix("malformed reply from upstream: no reply code in \"?[31mhello\""))
    }

    @Test("line length: the limit excludes the line end; longer lines throw, ended or not")
    func lineLength() {
        let limit = SMTPReplyParser(maxLineLength: 10)
        #expect(parse(bytes("250 123456\r\n"), parser: limit).replies.count == 1)  // 10 octets
        #expect(parse(bytes("250 123456\n"), parser: limit).replies.count == 1)
        #expect(parse(bytes("250 1234567\r\n"), parser: limit).failure != nil)
        // Unterminated: 10 octets and a CR may still become a line; one more cannot.
        let waiting = parse(bytes("250 123456\r"), parser: limit)
        #expect(waiting.failure == nil && waiting.replies.isEmpty && waiting.buffered == 11)
        #expect(parse(bytes("250 1234567\r"), parser: limit).failure != nil)
        #expect(parse(bytes(String(repeating: "x", count: 100)), parser: limit).failure != nil)
        // The default allows 4096.
        #expect(parse(bytes("250 " + String(repeating: "x", count: 4092) + "\r\n")).replies.count == 1)
        #expect(parse(bytes("250 " + String(repeating: "x", count: 4093) + "\r\n")).failure != nil)
    }

    @Test("too many lines in one reply")
    func tooManyLines() {
        let three = SMTPReplyParser(maxLines: 3)
        #expect(parse(bytes("250-a\r\n250-b\r\n250 c\r\n"), parser: three).replies.count == 1)
        #expect(parse(bytes("250-a\r\n250-b\r\n250-c\r\n"), parser: three).failure != nil)
        #expect(parse(bytes(String(repeating: "250-x\r\n", count: 100) + "250 end\r\n")).failure != nil)
        #expect(parse(bytes(String(repeating: "250-x\r\n", count: 99) + "250 end\r\n")).replies.first?.lines.count == 100)
    }

    @Test("bufferedByteCount: bytes not yet part of a returned reply")
    func bufferedByteCount() throws {
        var parser = SMTPReplyParser()
        parser.append(bytes("250-mx.example\r\n250 PIPE"))
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == 24)  // the whole reply so far, its first line included
        parser.append(bytes("LINING\r\n"))
        #expect(try parser.next() != nil)
        #expect(parser.bufferedByteCount == 0)
        // STARTTLS's 220 followed by injected plaintext: the driver sees the leftover bytes.
        parser.append(bytes("220 2.0.0 Ready to start TLS\r\n250 injected\r\n"))
        #expect(try parser.next() == SMTPReply(220, EnhancedStatusCode(2, 0, 0), "Ready to start TLS"))
        #expect(parser.bufferedByteCount == 14)
    }

    @Test("UnsafeBufferPointer input is the same as an array")
    func unsafeBufferInput() throws {
        var parser = SMTPReplyParser()
        let input = bytes("250-a\r\n250 2.0.0 b\r\n")
        input.withUnsafeBufferPointer { parser.append($0) }
        #expect(try parser.next() == SMTPReply(250, nil, lines: ["a", "2.0.0 b"]))
    }

    /// A whole upstream side of a session: greeting, EHLO, pipelined replies, a multi-line refusal, bare LFs.
    static let transcript = bytes(
        "220-mx.example ESMTP\r\n220 no UCE\r\n"
            + "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
            + "250 2.1.0 Ok\r\n550-5.1.1 <b@dest.example>: unknown\r\n550 5.1.1 see the docs\r\n250 2.1.5 Ok\n354 go\r\n"
            + "250 2.0.0 Ok: queued as 4BxYz\r\n221 2.0.0 Bye\r\n")

    @Test("every split point of a transcript gives the same replies")
    func everySplitPoint() {
        let whole = parse(Self.transcript)
        #expect(whole.failure == nil)
        #expect(whole.replies.count == 8)
        #expect(whole.replies[3] == SMTPReply(550, EnhancedStatusCode(5, 1, 1), lines: ["<b@dest.example>: unknown", "see the docs"]))
        for split in 0...Self.transcript.count {
            let result = parse(Self.transcript, cuts: [split, Self.transcript.count])
            #expect(result.replies == whole.replies, "split at \(split)")
            #expect(result.failure == nil && result.buffered == 0, "split at \(split)")
        }
        for cuts in chunkings(count: Self.transcript.count, seed: 5321, random: 40) {
            #expect(parse(Self.transcript, cuts: cuts).replies == whole.replies, "cuts \(cuts)")
        }
    }

    @Test("a malformed line is found wherever the input is split")
    func malformedAtEverySplitPoint() {
        let input = bytes("250-mx.example\r\n250-PIPELINING\r\n251 oops\r\n250 2.0.0 Ok\r\n")
        for split in 0...input.count {
            let result = parse(input, cuts: [split, input.count])
            #expect(result.replies.isEmpty && result.failure != nil, "split at \(split)")
        }
    }

    @Test("wire form round-trips through the parser", arguments: SMTPReplyTests.wire.map(\.0))
    func roundTrip(reply: SMTPReply) {
        let result = parse(reply.wireBytes)
        #expect(result.replies == [reply])
    }

    @Test("random replies round-trip, fed in random chunks")
    func randomRoundTrip() {
        var rng = SplitMix64(seed: 3463)
        let words = ["Ok", "mx.example", "queued as 1", "User unknown", "", "try later", "j\u{F6}rg", "5.1.1x", "a-b c"]
        for _ in 0..<200 {
            let replies = (0..<Int.random(in: 1...4, using: &rng)).map { _ -> SMTPReply in
                let code = [220, 221, 235, 250, 334, 354, 421, 451, 452, 503, 535, 550, 554].randomElement(using: &rng)!
                let enhanced = code / 100 == 3 || Bool.random(using: &rng)
                    ? nil : EnhancedStatusCode(code / 100, Int.random(in: 0...9, using: &rng), Int.random(in: 0...20, using: &rng))
                let lines = (0..<Int.random(in: 1...3, using: &rng)).map { _ in words.randomElement(using: &rng)! }
                return SMTPReply(code, enhanced, lines: lines)
            }
            let input = replies.flatMap(\.wireBytes)
            let cuts = randomCuts(count: input.count, maxChunk: 9, using: &rng)
            #expect(parse(input, cuts: cuts).replies == replies)
        }
    }
}

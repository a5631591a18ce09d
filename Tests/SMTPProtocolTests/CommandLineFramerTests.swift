import SMTPProtocol
import Testing

/// Appends each chunk to one buffer and takes out every event the framer has after it.
private func frame(_ chunks: [[UInt8]], maxLineLength: Int = 10) -> (events: [CommandLineFramer.Event], left: [UInt8]) {
    var framer = CommandLineFramer(maxLineLength: maxLineLength)
    var buffer = InputBuffer()
    var events: [CommandLineFramer.Event] = []
    for chunk in chunks {
        buffer.append(chunk)
        while let event = framer.next(from: &buffer) { events.append(event) }
    }
    return (events, Array(buffer.readable))
}

private func line(_ text: String) -> CommandLineFramer.Event { .line(bytes(text)) }

/// The framer's contract stated plainly: split after each LF, drop one CR before it, and report a line whose
/// octets (with its line end) exceed the limit as `.lineTooLong`; a final line without LF yields nothing yet.
private func reference(_ input: [UInt8], maxLineLength: Int) -> [CommandLineFramer.Event] {
    var events: [CommandLineFramer.Event] = []
    var current: [UInt8] = []
    for byte in input {
        current.append(byte)
        guard byte == 10 else { continue }
        if current.count > maxLineLength {
            events.append(.lineTooLong)
        } else {
            current.removeLast()
            if current.last == 13 { current.removeLast() }
            events.append(.line(current))
        }
        current = []
    }
    return events
}

@Suite("CommandLineFramer")
struct CommandLineFramerTests {
    /// (input, events, bytes left in the buffer) with a 10-octet limit.
    static let cases: [(String, [CommandLineFramer.Event], String)] = [
        ("EHLO x\r\n", [line("EHLO x")], ""),
        ("EHLO x\n", [line("EHLO x")], ""),
        ("a\r\nb\nc\r\n", [line("a"), line("b"), line("c")], ""),
        ("\r\n", [line("")], ""),
        ("\n", [line("")], ""),
        ("\r\n\r\n", [line(""), line("")], ""),
        ("a\rb\r\n", [line("a\rb")], ""),  // an inner CR is the parser's problem, not a line end
        ("a\r\r\n", [line("a\r")], ""),
        ("\r", [], "\r"),
        ("partial", [], "partial"),
        ("NOOP\r\nQUI", [line("NOOP")], "QUI"),
        ("12345678\r\n", [line("12345678")], ""),  // 10 octets with CRLF: the most allowed
        ("123456789\n", [line("123456789")], ""),  // 10 octets with a bare LF
        ("123456789\r\n", [.lineTooLong], ""),  // 11 octets
        ("123456789012345\r\nNOOP\r\n", [.lineTooLong, line("NOOP")], ""),
        ("123456789012345\nx\n123456789012345\ny\n", [.lineTooLong, line("x"), .lineTooLong, line("y")], ""),
        ("12345678901", [], ""),  // 11 octets, no LF yet: already too long, so dropped
        ("1234567890", [], "1234567890"),  // 10 octets, no LF: kept; the LF will make it too long
    ]

    @Test("frames lines", arguments: cases)
    func frames(input: String, events: [CommandLineFramer.Event], left: String) {
        let result = frame([bytes(input)])
        #expect(result.events == events)
        #expect(result.left == bytes(left))
    }

    @Test("a long line split over chunks is reported once, then the next line works")
    func longLineOverChunks() {
        let result = frame([bytes("123456"), bytes("789012"), bytes("345"), bytes("678\r"), bytes("\nNOOP\r"), bytes("\n")])
        #expect(result.events == [.lineTooLong, line("NOOP")])
        #expect(result.left.isEmpty)
    }

    @Test("10 octets held, then LF makes it 11: too long", arguments: ["1234567890", "123456789\r"])
    func limitDecidedByLF(first: String) {
        #expect(frame([bytes(first), bytes("\n"), bytes("QUIT\r\n")]).events == [.lineTooLong, line("QUIT")])
    }

    @Test("the default limit is 1000 octets including CRLF, like SMTPCommandParser")
    func defaultLimit() {
        #expect(CommandLineFramer().maxLineLength == SMTPCommandParser.maxLineLength)
        let fits = String(repeating: "x", count: 998)
        let long = String(repeating: "x", count: 999)
        #expect(frame([bytes(fits + "\r\n" + long + "\r\nQUIT\r\n")], maxLineLength: 1000).events
            == [line(fits), .lineTooLong, line("QUIT")])
    }

    @Test("an endless line without LF keeps the buffer bounded", arguments: [1, 100, 512, 4096])
    func endlessLine(chunkSize: Int) {
        var framer = CommandLineFramer()
        var buffer = InputBuffer()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: chunkSize)
        var largestBeforeNext = 0
        var largestAfterNext = 0
        var events = 0
        for _ in 0..<(30 * framer.maxLineLength / chunkSize) {  // 30 times the limit, never an LF
            buffer.append(chunk)
            largestBeforeNext = max(largestBeforeNext, buffer.count)
            if framer.next(from: &buffer) != nil { events += 1 }
            largestAfterNext = max(largestAfterNext, buffer.count)
        }
        #expect(events == 0)
        #expect(largestBeforeNext <= framer.maxLineLength + chunkSize)
        #expect(largestAfterNext <= framer.maxLineLength)
        buffer.append(bytes("\r\nQUIT\r\n"))
        #expect(framer.next(from: &buffer) == .lineTooLong)
        #expect(framer.next(from: &buffer) == line("QUIT"))
        #expect(framer.next(from: &buffer) == nil)
        #expect(buffer.isEmpty)
    }

    @Test("events do not depend on how the input was split", arguments: [31, 32, 33, 34] as [UInt64])
    func chunkInvariance(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let pieces = ["a", "b", " ", "\r", "\n", "\r\n", "0123456789", "xyz"]
        for _ in 0..<50 {
            let input = bytes((0..<Int.random(in: 0...60, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined())
            let expected = reference(input, maxLineLength: 10)
            for cuts in chunkings(count: input.count, seed: seed, random: 8) {
                var start = 0
                let chunks = cuts.map { end in defer { start = end }; return Array(input[start..<end]) }
                #expect(frame(chunks).events == expected)
            }
        }
    }
}

import SMTPProtocol
import Testing

@Suite("DataDecoder")
struct DataDecoderTests {
    /// (wire bytes after the 354, decoded message, bytes left for the next command)
    static let complete: [(String, String, String)] = [
        (".\r\n", "", ""),  // an empty message: the terminator right away
        (".\r\nQUIT\r\n", "", "QUIT\r\n"),
        ("\r\n.\r\n", "\r\n", ""),
        ("Subject: hi\r\n\r\nbody\r\n.\r\n", "Subject: hi\r\n\r\nbody\r\n", ""),
        ("a\r\n.\r\nQUIT\r\n", "a\r\n", "QUIT\r\n"),
        ("a\r\n.\r\nMAIL FROM:<b@c.example>\r\nRCPT TO:<d@e.example>\r\n", "a\r\n",
         "MAIL FROM:<b@c.example>\r\nRCPT TO:<d@e.example>\r\n"),
        ("a\r\n.\r\n.\r\n", "a\r\n", ".\r\n"),  // only the first terminator counts
        ("..leading dot\r\n.\r\n", ".leading dot\r\n", ""),
        ("a\r\n..\r\n.\r\n", "a\r\n.\r\n", ""),  // a stuffed lone dot is content, not the end
        ("...\r\n.\r\n", "..\r\n", ""),
        (".unstuffed\r\n.\r\n", "unstuffed\r\n", ""),  // RFC 5321 §4.5.2: the first dot goes regardless
        ("a.\r\n.\r\n", "a.\r\n", ""),
        (" .\r\n.\r\n", " .\r\n", ""),
        ("a\r\nb.c\r\n..d\r\n.\r\n", "a\r\nb.c\r\n.d\r\n", ""),
        ("caf\u{E9} \u{1F600}\r\n.\r\n", "caf\u{E9} \u{1F600}\r\n", ""),  // 8-bit content passes
    ]

    @Test("finds the end, unstuffs, leaves what follows", arguments: complete)
    func completeMessages(wire: String, message: String, rest: String) {
        let input = bytes(wire)
        for cuts in chunkings(count: input.count, seed: 1) {
            let result = decode(input, cuts: cuts)
            #expect(result.finished)
            #expect(result.output == bytes(message))
            #expect(result.consumed == input.count - bytes(rest).count)
            #expect(result.usedWholeChunksUntilEnd)
            var clean = noFindings
            clean.size = bytes(message).count
            #expect(result.findings == clean)
        }
    }

    static let incomplete: [(String, String)] = [
        ("", ""),
        ("a", "a"),
        ("a\r\n", "a\r\n"),
        ("a\r\n.", "a\r\n"),
        ("a\r\n.\r", "a\r\n"),  // the CR is held back until we know whether LF follows
        ("a\r\n..", "a\r\n."),
        (".", ""),
        ("a\r\n.\r\r\n", "a\r\n\r\r\n"),  // "." CR CR LF is no terminator
        ("a.\r\n", "a.\r\n"),
    ]

    @Test("without CRLF.CRLF the message is not finished and all input is used", arguments: incomplete)
    func incompleteMessages(wire: String, soFar: String) {
        let input = bytes(wire)
        for cuts in chunkings(count: input.count, seed: 2) {
            let result = decode(input, cuts: cuts)
            #expect(!result.finished)
            #expect(result.consumed == input.count)
            #expect(result.output == bytes(soFar))
        }
    }

    /// SMTP smuggling (CVE-2023-51764/5/6): line ends other than CRLF around a dot must never end the message.
    static let smuggling: [(String, bareLF: Bool, bareCR: Bool)] = [
        ("\n.\n", true, false),
        ("\n.\r\n", true, false),
        ("\r.\r\n", false, true),
        ("\r\n.\n", true, false),
        ("\r\n.\r", false, true),
        ("\n.\r", true, true),
        ("\r.\r", false, true),
        ("\r\n.\rX", false, true),
        ("\r.\n", true, true),
        ("\n\r\n.\n", true, false),
    ]

    @Test("smuggled terminators never end the message and are flagged", arguments: smuggling)
    func smuggledTerminators(variant: String, bareLF: Bool, bareCR: Bool) {
        let smuggled = "MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@bank.example>\r\nDATA\r\nforged\r\n"
        for prefix in ["", "a", "a\r\n", "Subject: x\r\n\r\nbody"] {
            let input = bytes(prefix + variant + smuggled + ".\r\nQUIT\r\n")
            for cuts in chunkings(count: input.count, seed: 3, random: 8) {
                let result = decode(input, cuts: cuts)
                #expect(result.finished)
                #expect(result.consumed == input.count - 6, "only the real CRLF.CRLF ends it; QUIT is left")
                // The would-be second transaction is just message text.
                #expect(String(decoding: result.output, as: UTF8.self).hasSuffix(smuggled))
                #expect(result.findings.sawBareLF == bareLF)
                #expect(result.findings.sawBareCR == bareCR)
            }
        }
    }

    static let nulInputs: [(String, String)] = [
        ("a\0b\r\n.\r\n", "a\0b\r\n"),
        ("\0\r\n.\r\n", "\0\r\n"),
        (".\0\r\n.\r\n", "\0\r\n"),
        ("a\r\n\0", "a\r\n\0"),
    ]

    @Test("NUL is kept and flagged", arguments: nulInputs)
    func nul(wire: String, output: String) {
        let result = decode(bytes(wire))
        #expect(result.output == bytes(output))
        #expect(result.findings.sawNUL)
        #expect(!result.findings.sawBareCR && !result.findings.sawBareLF)
    }

    @Test("past the size limit the output stops growing but the size keeps counting",
          arguments: [0, 1, 5, 13, 14, 15, 100])
    func sizeLimit(limit: Int) {
        let input = bytes("hello\r\n..orld\r\n.\r\nQUIT\r\n")
        let expected = bytes("hello\r\n.orld\r\n")  // 14 octets: the size counts unstuffed octets
        for cuts in chunkings(count: input.count, seed: UInt64(limit)) {
            let result = decode(input, cuts: cuts, sizeLimit: limit)
            #expect(result.finished)
            #expect(result.consumed == input.count - 6)
            #expect(result.output == Array(expected.prefix(limit)))
            #expect(result.maxOutputCount <= limit)
            #expect(result.findings.size == 14)
            #expect(result.findings.exceededSizeLimit == (limit < 14))
        }
    }

    @Test("a large message streams past a small limit with bounded output")
    func largeMessageOverLimit() {
        let line = bytes(String(repeating: "x", count: 78) + "\r\n")
        var input: [UInt8] = []
        for _ in 0..<2000 { input += line }
        input += bytes(".\r\n")
        var rng = SplitMix64(seed: 42)
        let result = decode(input, cuts: randomCuts(count: input.count, maxChunk: 4096, using: &rng), sizeLimit: 1000)
        #expect(result.finished)
        #expect(result.output == Array(input.prefix(1000)))
        #expect(result.maxOutputCount == 1000)
        #expect(result.findings.size == 160_000)
        #expect(result.findings.exceededSizeLimit)
    }

    static let lineLengths: [(String, Bool)] = [
        (String(repeating: "x", count: 998) + "\r\n", false),
        (String(repeating: "x", count: 999) + "\r\n", true),
        (String(repeating: "x", count: 5000) + "\r\n", true),
        (String(repeating: String(repeating: "x", count: 998) + "\r\n", count: 5), false),  // the count resets per line
        ("short\r\n" + String(repeating: "x", count: 999) + "\r\nshort\r\n", true),
        ("\r\n" + String(repeating: "é", count: 499) + "\r\n", false),  // 998 octets, 499 characters
        ("\r\n" + String(repeating: "é", count: 500) + "\r\n", true),
    ]

    @Test("a line may hold 998 octets plus CRLF", arguments: lineLengths)
    func lineLength(message: String, overlong: Bool) {
        let result = decode(bytes(message + ".\r\n"))
        #expect(result.finished)
        #expect(result.findings.sawOverlongLine == overlong)
        #expect(result.findings.size == result.output.count)
        #expect(DataDecoder.maxLineLength == 1000)
    }

    @Test("the transparency dot does not count towards the line length")
    func stuffedDotNotCounted() {
        let line = "." + String(repeating: "x", count: 997)  // 998 octets of content
        let wire = stuff(bytes(line + "\r\n"))
        #expect(wire.count == 999 + 2 + 3)
        let result = decode(wire)
        #expect(result.output == bytes(line + "\r\n"))
        #expect(!result.findings.sawOverlongLine)
    }

    @Test("once finished the decoder takes no more bytes")
    func finishedTakesNothing() {
        var decoder = DataDecoder(sizeLimit: 100)
        var output: [UInt8] = []
        #expect(decoder.decode(ArraySlice(bytes("a\r\n.\r\nNOOP\r\n")), into: &output) == 6)
        #expect(decoder.isFinished)
        let findings = decoder.findings
        #expect(decoder.decode(ArraySlice(bytes("more\r\n.\r\n")), into: &output) == 0)
        #expect(output == bytes("a\r\n"))
        #expect(decoder.findings == findings)
        #expect(decoder.sizeLimit == 100)
    }

    @Test("decodes from a slice that does not start at index 0 and appends to existing output")
    func sliceOffsets() {
        let buffer = bytes("DATA\r\nhi\r\n.\r\nQUIT\r\n")
        var decoder = DataDecoder(sizeLimit: 100)
        var output = bytes(">")
        let used = decoder.decode(buffer[6...], into: &output)
        #expect(used == 7)
        #expect(output == bytes(">hi\r\n"))
        #expect(Array(buffer[(6 + used)...]) == bytes("QUIT\r\n"))
    }
}

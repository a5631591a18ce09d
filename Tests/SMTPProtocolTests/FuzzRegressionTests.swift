import SMTPProtocol
import Testing

/// Inputs scripts/fuzz found (target `reply-parser`), kept as regression tests of the fix.
///
/// The enhanced status code is matched and stripped with String's Character (grapheme cluster) operations: when
/// the text after "2.0.0 " starts with a combining mark, the space and the mark are one Character, so the code is
/// neither lifted from the first line nor stripped from the others. The wire format is bytes: "2.0.0" SP is there.
@Suite("Fuzz regressions: SMTPReplyParser")
struct FuzzRegressionTests {
    private func replies(_ text: String) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        parser.append(Array(text.utf8))
        var out: [SMTPReply] = []
        while let reply = try parser.next() { out.append(reply) }
        return out
    }

    @Test("an enhanced code followed by text starting with a combining mark is lifted")
    func enhancedCodeBeforeCombiningMarkOnFirstLine() throws {
        #expect(try replies("250 2.0.0 \u{301}ok\r\n") == [SMTPReply(250, EnhancedStatusCode(2, 0, 0), "\u{301}ok")])
    }

    @Test("an enhanced code followed by a combining mark is stripped from continuation lines")
    func enhancedCodeBeforeCombiningMarkOnLaterLine() throws {
        #expect(try replies("250-2.0.0 a\r\n250 2.0.0 \u{301}b\r\n")
            == [SMTPReply(250, EnhancedStatusCode(2, 0, 0), lines: ["a", "\u{301}b"])])
    }

    @Test("such a reply survives wireBytes and parsing")
    func combiningMarkRoundTrip() throws {
        let reply = SMTPReply(550, EnhancedStatusCode(5, 1, 1), lines: ["\u{352}4", "x"])
        #expect(try replies(String(decoding: reply.wireBytes, as: UTF8.self)) == [reply])
    }
}

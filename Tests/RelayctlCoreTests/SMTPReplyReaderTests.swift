import RelayctlCore
import Testing

@Suite("SMTPReplyReader")
struct SMTPReplyReaderTests {
    @Test func gathersMultiLineRepliesAcrossReads() throws {
        var reader = SMTPReplyReader()
        reader.append(Array("220 relay.example ESMTP\r\n250-relay.example\r\n250-PIPE".utf8))
        #expect(try reader.next() == SMTPReply(code: 220, lines: ["relay.example ESMTP"]))
        #expect(try reader.next() == nil)
        reader.append(Array("LINING\r\n250 SMTPUTF8\n".utf8))
        #expect(try reader.next() == SMTPReply(code: 250, lines: ["relay.example", "PIPELINING", "SMTPUTF8"]))
        #expect(try reader.next() == nil)
    }

    @Test func aBareCodeIsAReply() throws {
        var reader = SMTPReplyReader()
        reader.append(Array("250\r\n".utf8))
        let reply = try reader.next()
        #expect(reply == SMTPReply(code: 250, lines: [""]))
        #expect(reply?.description == "250")
    }

    @Test(arguments: ["hello\r\n", "25\r\n", "250x\r\n", "250-a\r\n251 b\r\n"])
    func refusesWhatIsNotAReply(_ text: String) {
        var reader = SMTPReplyReader()
        reader.append(Array(text.utf8))
        #expect(throws: SMTPSubmissionError.self) { _ = try reader.next() }
    }

    @Test func findsTheQueueID() {
        #expect(SMTPReply(code: 250, lines: ["2.0.0 Ok: queued as 0F3A9C2E1B7D4"]).queuedAs == "0F3A9C2E1B7D4")
        #expect(SMTPReply(code: 250, lines: ["2.0.0 Ok: queued as 0F3A9C2E1B7D4 thanks"]).queuedAs == "0F3A9C2E1B7D4")
        #expect(SMTPReply(code: 250, lines: ["2.0.0 Ok"]).queuedAs == nil)
        #expect(SMTPReply(code: 250, lines: ["2.0.0 Ok", "x"]).description == "250 2.0.0 Ok / 250 x")
    }
}

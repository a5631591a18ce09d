import RelayctlCore
import SMTPProtocol
import Testing

@Suite("SMTPReply.queuedAs")
struct SMTPReplyQueuedAsTests {
    @Test func findsTheQueueIDInTheFinalDotsReply() throws {
        var parser = SMTPReplyParser()
        parser.append(Array("250 2.0.0 Ok: queued as 0F3A9C2E1B7D4\r\n250 2.0.0 Ok: queued as 0F3A9C2E1B7D5 thanks\r\n250 2.0.0 Ok\r\n".utf8))
        #expect(try parser.next()?.queuedAs == "0F3A9C2E1B7D4")
        #expect(try parser.next()?.queuedAs == "0F3A9C2E1B7D5")
        #expect(try parser.next()?.queuedAs == nil)
    }
}

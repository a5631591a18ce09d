import Control
import Spool
import Testing

@Suite("MessageDetail")
struct MessageDetailTests {
    static func detail(_ message: String, size: Int? = nil) -> MessageDetail {
        var spoolEntry = QueueEntryTests.spoolEntry()
        spoolEntry.size = size ?? message.utf8.count
        return MessageDetail(spoolEntry, messagePrefix: Array(message.utf8), now: QueueEntryTests.now)
    }

    @Test(arguments: [
        ("Received: x\r\nSubject: hi\r\n\r\nbody\r\n", "Received: x\r\nSubject: hi\r\n"),
        ("Subject: bare LF\n\nbody\n", "Subject: bare LF\n"),
        ("\r\nbody only\r\n", ""),
        ("Subject: no body at all\r\n", "Subject: no body at all\r\n"),
        ("Subject: a\r\n folded\r\n\r\n\r\nbody", "Subject: a\r\n folded\r\n"),
    ])
    func theHeaderSectionEndsAtTheFirstEmptyLine(message: String, headers: String) {
        let detail = Self.detail(message)
        #expect(detail.headers == headers)
        #expect(!detail.headersTruncated)
    }

    @Test func aHugeHeaderSectionIsCutAtALineEnd() {
        let line = "X-Filler: " + String(repeating: "y", count: 88) + "\r\n"  // 100 bytes
        let message = String(repeating: line, count: 1_000) + "\r\nbody"
        let prefix = String(message.utf8.prefix(MessageDetail.headerLimit + 4))!
        let detail = Self.detail(prefix, size: message.utf8.count)
        #expect(detail.headersTruncated)
        #expect(detail.headers.utf8.count == 65_500, "655 whole lines")
        #expect(detail.headers.hasSuffix("\r\n"))
    }

    @Test func aPrefixWithoutTheEndOfTheHeadersIsTruncated() {
        let detail = Self.detail("Subject: cut", size: 1_000_000)
        #expect(detail.headersTruncated)
    }

    @Test func jsonCarriesTheEntryAndTheHeaders() throws {
        let detail = Self.detail("Subject: hi\r\n\r\nbody")
        let json = String(decoding: detail.jsonBytes, as: UTF8.self)
        #expect(json.hasPrefix(#"{"message":{"id":"01HX0000000AB","#))
        #expect(json.hasSuffix(#""eight_bit_mime":false,"smtputf8":false,"headers":"Subject: hi\r\n","headers_truncated":false,"history":[]}"#))
        #expect(!json.contains("body"))
        #expect(try MessageDetail(jsonBytes: detail.jsonBytes) == detail)
    }

    @Test func theStatesAttemptHistoryIsShownWithEachRecipientsReply() throws {
        var spoolEntry = QueueEntryTests.spoolEntry()
        var tried = DeliveryState.Recipient(address: "bob@example.org", status: .deferred, reply: "421 4.7.0 Try again later")
        tried.at = 1_700_000_100
        spoolEntry.state.record(.init(at: 1_700_000_100.7, relay: "relay.example[192.0.2.1]:587", recipients: [tried]))
        let detail = MessageDetail(spoolEntry, messagePrefix: Array("Subject: hi\r\n\r\n".utf8), now: QueueEntryTests.now)

        #expect(detail.history == [MessageDetail.Attempt(
            at: 1_700_000_100, relay: "relay.example[192.0.2.1]:587",
            recipients: [QueueEntry.Recipient(address: "bob@example.org", status: .deferred, reply: "421 4.7.0 Try again later", at: 1_700_000_100)])])
        let json = String(decoding: detail.jsonBytes, as: UTF8.self)
        #expect(json.contains(#""history":[{"at":"2023-11-14T22:15:00Z","at_epoch":1700000100,"relay":"relay.example[192.0.2.1]:587","recipients":[{"address":"bob@example.org","status":"deferred","reply":"421 4.7.0 Try again later"}]}]"#), "\(json)")
        var decoded = try MessageDetail(jsonBytes: detail.jsonBytes)
        #expect(decoded.history.first?.recipients.first?.reply == "421 4.7.0 Try again later")
        decoded.history[0].recipients[0].at = 1_700_000_100  // the wire carries the attempt's time once
        #expect(decoded == detail)
    }
}

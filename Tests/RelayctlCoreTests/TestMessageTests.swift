import RelayctlCore
import Testing

@Suite("TestMessage")
struct TestMessageTests {
    @Test func isAShortRFC5322MessageWithCRLFLines() {
        let message = TestMessage(
            from: "postmaster@relay.example", to: "ops@example.org", hostname: "relay.example", user: "root",
            date: 1_714_564_984, token: "k3x9")
        let text = String(decoding: message.bytes, as: UTF8.self)
        #expect(text.hasPrefix("""
            Date: Wed, 01 May 2024 12:03:04 +0000\r
            From: postmaster@relay.example\r
            To: ops@example.org\r
            Subject: MailRelay test message\r
            Message-ID: <relayctl.k3x9@relay.example>\r

            """))
        #expect(text.contains("\r\n\r\nThis is a test message sent with `relayctl send-test` by root on relay.example\r\n"))
        #expect(text.hasSuffix("\r\n"))
        #expect(!message.bytes.split(separator: 10).contains { $0.first == UInt8(ascii: ".") }, "no dot-stuffing needed")
        #expect(!text.replacing("\r\n", with: "").contains("\n"), "no bare LF")
    }

    @Test func theNullSenderIsShownAsMailerDaemon() {
        let message = TestMessage(from: "", to: "a@b", hostname: "h", user: "u", date: 0, token: "t")
        #expect(String(decoding: message.bytes, as: UTF8.self).contains("\r\nFrom: MAILER-DAEMON@h\r\n"))
        #expect(String(decoding: message.bytes, as: UTF8.self).hasPrefix("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"))
    }
}

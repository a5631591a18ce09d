#if canImport(Glibc)
import Glibc
#endif
@testable import Receiving
import Testing

@Suite("Received: header")
struct ReceivedHeaderTests {
    static func make(
        clientName: String = "client.example", clientAddress: String = "192.0.2.7", recipients: [String] = ["bob@example.net"]
    ) -> String {
        String(decoding: ReceivedHeader.make(
            clientName: clientName, clientAddress: clientAddress, hostname: "relay.example", protocolName: "ESMTP",
            queueID: "01JBZ8X4Q2M7T", recipients: recipients, date: 1_795_769_412), as: UTF8.self)
    }

    @Test func formatWithOneRecipient() {
        #expect(Self.make() == "Received: from client.example ([192.0.2.7])\r\n"
            + "\tby relay.example (MailRelay) with ESMTP id 01JBZ8X4Q2M7T\r\n"
            + "\tfor <bob@example.net>;\r\n"
            + "\tFri, 27 Nov 2026 08:50:12 +0000\r\n")
    }

    /// RFC 5321 §4.1.3: IPv6 address literals are tagged `IPv6:`; IPv4 ones are bare dotted quads.
    @Test(arguments: [
        ("192.0.2.7", "[192.0.2.7]"), ("::1", "[IPv6:::1]"), ("2001:db8::25", "[IPv6:2001:db8::25]"),
        ("fe80::1:2", "[IPv6:fe80::1:2]"), ("::ffff:192.0.2.7", "[IPv6:::ffff:192.0.2.7]"),
    ])
    func addressLiteral(address: String, literal: String) {
        #expect(Self.make(clientAddress: address) == "Received: from client.example (\(literal))\r\n"
            + "\tby relay.example (MailRelay) with ESMTP id 01JBZ8X4Q2M7T\r\n"
            + "\tfor <bob@example.net>;\r\n"
            + "\tFri, 27 Nov 2026 08:50:12 +0000\r\n")
    }

    @Test(arguments: [[String](), ["a@example.net", "b@example.net"], ["a@x", "b@x", "c@x"]])
    func noForClauseUnlessExactlyOneRecipient(recipients: [String]) {
        let header = Self.make(recipients: recipients)
        #expect(!header.contains("for <"), "naming several recipients would disclose Bcc")
        #expect(header == "Received: from client.example ([192.0.2.7])\r\n"
            + "\tby relay.example (MailRelay) with ESMTP id 01JBZ8X4Q2M7T;\r\n"
            + "\tFri, 27 Nov 2026 08:50:12 +0000\r\n")
    }

    @Test func everyLineEndsInCRLFAndContinuationsStartWithTab() {
        let bytes = Array(Self.make(clientName: "evil\r\nX-Injected: yes").utf8)
        let lines = bytes.split(separator: 10, omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 4)
        for (index, line) in lines.enumerated() {
            #expect(line.last == 13, "line \(index) ends in CRLF")
            #expect(!line.dropLast().contains(13), "no bare CR in line \(index)")
            if index > 0 { #expect(line.first == 9, "line \(index) is folded with a TAB") }
        }
        #expect(bytes.suffix(2) == [13, 10])
    }

    @Test(arguments: [
        ("client.example", "client.example"), ("", "unknown"), ("[192.0.2.7]", "[192.0.2.7]"),
        ("evil\r\nX-Injected: yes", "evil__X-Injected:_yes"), ("a (comment) b", "a__comment__b"),
        ("héllo", "h_llo"), ("tab\there", "tab_here"), ("nul\u{0}", "nul_"), ("del\u{7F}", "del_"),
    ])
    func heloIsSanitised(helo: String, shown: String) {
        #expect(Self.make(clientName: helo).hasPrefix("Received: from \(shown) ([192.0.2.7])\r\n"))
    }

    @Test(arguments: [
        (time_t(0), "Thu, 1 Jan 1970 00:00:00 +0000"),
        (time_t(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000"),
        (time_t(1_000_000_000), "Sun, 9 Sep 2001 01:46:40 +0000"),
        (time_t(1_795_769_412), "Fri, 27 Nov 2026 08:50:12 +0000"),
        (time_t(1_735_689_599), "Tue, 31 Dec 2024 23:59:59 +0000"),
        (time_t(4_102_444_800), "Fri, 1 Jan 2100 00:00:00 +0000"),
    ])
    func rfc5322Date(time: time_t, text: String) {
        #expect(ReceivedHeader.rfc5322Date(time) == text)
    }
}

import Delivery
import Foundation
import RelayTesting
import Spool
import Testing

@Suite("Bounce message (RFC 3464 DSN)")
struct BounceMessageTests {
    static let host = "relay.example.org"
    static let now = 1_700_000_000.0  // Tue, 14 Nov 2023 22:13:20 +0000
    static let headers = "Received: from client.example ([192.0.2.1])\r\n\tby relay.example.org; Tue, 14 Nov 2023 20:00:00 +0000\r\n"
        + "From: alice@example.org\r\nTo: bob@example.net, carol@example.com\r\nSubject: Quarterly numbers\r\n"
    static let body = "Hello.\r\nThe secret body line that must not come back.\r\n"

    static func envelope(sender: String = "alice@example.org", recipients: [String] = ["bob@example.net", "carol@example.com"], smtputf8: Bool = false) -> MessageEnvelope {
        MessageEnvelope(
            id: QueueID("0HF7XKQ2M4A1B")!, sender: sender, recipients: recipients, receivedAt: now - 3_600,
            clientAddress: "192.0.2.1", clientName: "client.example", eightBitMIME: false, smtputf8: smtputf8)
    }

    static let twoFailures = [
        BounceMessage.FailedRecipient(
            address: "bob@example.net", reply: "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown",
            remoteHost: "mx.example.net", at: now - 60),
        BounceMessage.FailedRecipient(address: "carol@example.com", reply: "554 Transaction failed", remoteHost: nil, at: now - 30),
    ]

    static func render(
        envelope: MessageEnvelope = envelope(), message: String = headers + "\r\n" + body,
        failed: [BounceMessage.FailedRecipient] = twoFailures
    ) -> [UInt8] {
        BounceMessage(reportingHost: host, original: envelope, originalMessage: Array(message.utf8), failed: failed, now: now).render()
    }

    @Test func twoFailedRecipientsMakeAThreePartReport() throws {
        let bytes = Self.render()
        let report = try ParsedReport(bytes)

        #expect(report.headers["from"] == "MAILER-DAEMON@relay.example.org (Mail Delivery System)")
        #expect(report.headers["to"] == "<alice@example.org>")
        #expect(report.headers["subject"] == "Undelivered Mail Returned to Sender")
        #expect(report.headers["date"] == "Tue, 14 Nov 2023 22:13:20 +0000")
        #expect(report.headers["message-id"] == "<20231114221320000.0HF7XKQ2M4A1B@relay.example.org>")
        #expect(report.headers["auto-submitted"] == "auto-replied")
        #expect(report.headers["mime-version"] == "1.0")
        let type = try #require(report.headers["content-type"])
        #expect(type.hasPrefix("multipart/report; report-type=delivery-status;"))
        #expect(report.boundary.contains("0HF7XKQ2M4A1B"), "the queue id makes the boundary unique")
        #expect(report.boundary.utf8.count <= 70)

        #expect(report.parts.count == 3)
        guard report.parts.count == 3 else { return }
        let (notification, status, returned) = (report.parts[0], report.parts[1], report.parts[2])
        #expect(notification.headers["content-type"] == "text/plain; charset=us-ascii")
        #expect(notification.headers["content-transfer-encoding"] == "7bit")
        #expect(notification.text.hasPrefix("This is the mail system at host relay.example.org.\r\n"))
        #expect(notification.text.replacingOccurrences(of: "\r\n", with: " ").contains("could not be delivered to one or more recipients"))
        #expect(notification.text.contains("<bob@example.net>: host mx.example.net said: 550 5.1.1"))
        #expect(notification.text.contains("<carol@example.com>: 554 Transaction failed"))

        #expect(status.headers["content-type"] == "message/delivery-status")
        let groups = ParsedReport.groups(status.text)
        #expect(groups.count == 3, "one per-message group and one per recipient")
        guard groups.count == 3 else { return }
        #expect(groups[0] == [
            "reporting-mta": "dns; relay.example.org", "x-mailrelay-queue-id": "0HF7XKQ2M4A1B",
            "x-mailrelay-sender": "rfc822; alice@example.org", "arrival-date": "Tue, 14 Nov 2023 21:13:20 +0000",
        ])
        #expect(groups[1] == [
            "final-recipient": "rfc822; bob@example.net", "action": "failed", "status": "5.1.1",
            "remote-mta": "dns; mx.example.net",
            "diagnostic-code": "smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown",
            "last-attempt-date": "Tue, 14 Nov 2023 22:12:20 +0000",
        ])
        #expect(groups[2] == [
            "final-recipient": "rfc822; carol@example.com", "action": "failed", "status": "5.0.0",
            "diagnostic-code": "smtp; 554 Transaction failed", "last-attempt-date": "Tue, 14 Nov 2023 22:12:50 +0000",
        ], "no Remote-MTA when the host is unknown; 5.0.0 without an enhanced code")

        #expect(returned.headers["content-type"] == "text/rfc822-headers")
        #expect(returned.headers["content-transfer-encoding"] == "7bit")
        #expect(returned.text == Self.headers, "the header section exactly, folded Received: line included")
        #expect(!bytes.contains("secret body line"), "the body never comes back")

        #expect(bytes.hasOnlyCRLFLineEnds)
        #expect(bytes.longestLine <= 998)
        #expect(bytes.allSatisfy { $0 < 0x80 }, "7bit")
    }

    @Test(arguments: [
        ("550 5.1.1 No such user", "5.1.1"),
        ("550-5.7.1 Message rejected as spam", "5.7.1"),
        ("552 5.2.2 Mailbox full", "5.2.2"),
        ("554 Transaction failed", "5.0.0"),
        ("550 4.1.1 class does not match", "5.0.0"),
        ("expired after 12 attempts: 421 4.7.0 Try again later", "4.7.0"),
        ("expired after 12 attempts: 421 Service not available", "4.0.0"),
        ("no outcome reported by outbox", "5.0.0"),
        ("", "5.0.0"),
    ])
    func statusComesFromTheEnhancedCode(reply: String, status: String) throws {
        let failure = BounceMessage.FailedRecipient(address: "bob@example.net", reply: reply, remoteHost: nil, at: Self.now)
        let report = try ParsedReport(Self.render(failed: [failure]))
        let groups = ParsedReport.groups(try #require(report.parts.dropFirst().first).text)
        #expect(groups.last?["status"] == status, "\(reply)")
        #expect(groups.last?["action"] == "failed")
        let type = reply.first?.isNumber == true ? "smtp" : "X-MailRelay"
        #expect(groups.last?["diagnostic-code"]?.hasPrefix("\(type);") == true, "\(reply): a reason of ours is not called an SMTP reply")
    }

    @Test func longRepliesAndHeaderLinesKeepEveryLineShort() throws {
        let word = String(repeating: "x", count: 2_500)
        let reply = "550 5.7.1 " + (1...300).map { "word\($0)" }.joined(separator: " ") + " " + word
        let longHeader = "X-Long: " + String(repeating: "y", count: 2_000) + "\r\n"
        let headers = Self.headers + longHeader
        let failure = BounceMessage.FailedRecipient(address: "bob@example.net", reply: reply, remoteHost: "mx.example.net", at: Self.now)
        let bytes = Self.render(message: headers + "\r\n" + Self.body, failed: [failure])

        #expect(bytes.longestLine <= 998)
        #expect(bytes.hasOnlyCRLFLineEnds)
        #expect(bytes.allSatisfy { $0 < 0x80 })
        let report = try ParsedReport(bytes)
        let diagnostic = try #require(ParsedReport.groups(report.parts[1].text).last?["diagnostic-code"])
        #expect(diagnostic.hasPrefix("smtp; 550 5.7.1 word1 word2"), "folded, and unfolds to the reply")
        #expect(diagnostic.utf8.count < 2_200, "a huge reply is cut short")
        #expect(diagnostic.hasSuffix("[cut short]"))

        let returned = report.parts[2]
        #expect(returned.headers["content-type"] == "text/rfc822-headers")
        #expect(returned.headers["content-transfer-encoding"] == "base64", "a 2,000-octet header line cannot go as it is")
        let decoded = Data(base64Encoded: returned.text, options: .ignoreUnknownCharacters).map { [UInt8]($0) }
        #expect(decoded == Array(headers.utf8))
    }

    @Test func nonASCIIStaysOutOfAnASCIIBounce() throws {
        let headers = "From: alice@example.org\r\nSubject: Grüße aus Köln\r\n"
        let failure = BounceMessage.FailedRecipient(address: "bob@example.net", reply: "550 5.1.1 Benutzer unbekannt – sorry", remoteHost: "mx.example.net", at: Self.now)
        let bytes = Self.render(message: headers + "\r\nHallo\r\n", failed: [failure])

        #expect(bytes.allSatisfy { $0 < 0x80 }, "7bit-clean without SMTPUTF8")
        #expect(bytes.longestLine <= 998)
        let report = try ParsedReport(bytes)
        #expect(report.headers["content-type"]?.contains("report-type=delivery-status") == true)
        #expect(ParsedReport.groups(report.parts[1].text).last?["diagnostic-code"] == "smtp; 550 5.1.1 Benutzer unbekannt ? sorry")
        let returned = report.parts[2]
        #expect(returned.headers["content-type"] == "message/global-headers", "RFC 6533 for non-ASCII headers")
        #expect(returned.headers["content-transfer-encoding"] == "base64")
        #expect(Data(base64Encoded: returned.text, options: .ignoreUnknownCharacters).map { [UInt8]($0) } == Array(headers.utf8))
    }

    @Test func smtputf8OriginalGetsAnInternationalReport() throws {
        let envelope = Self.envelope(sender: "jürgen@example.org", recipients: ["用户@example.net", "bob@example.net"], smtputf8: true)
        let headers = "From: jürgen@example.org\r\nTo: 用户@example.net\r\nSubject: Grüße\r\n"
        let failed = [
            BounceMessage.FailedRecipient(address: "用户@example.net", reply: "550 5.1.1 用户不存在", remoteHost: "mx.example.net", at: Self.now),
            BounceMessage.FailedRecipient(address: "bob@example.net", reply: "550 5.1.1 No such user", remoteHost: "mx.example.net", at: Self.now),
        ]
        let bytes = Self.render(envelope: envelope, message: headers + "\r\nbody\r\n", failed: failed)
        let report = try ParsedReport(bytes)

        #expect(report.headers["to"] == "<jürgen@example.org>")
        #expect(report.headers["content-type"]?.hasPrefix("multipart/report; report-type=global-delivery-status;") == true)
        #expect(report.headers["content-transfer-encoding"] == "8bit")
        #expect(report.parts[0].headers["content-type"] == "text/plain; charset=utf-8")
        #expect(report.parts[0].text.contains("<用户@example.net>: host mx.example.net said: 550 5.1.1 用户不存在"))
        #expect(report.parts[1].headers["content-type"] == "message/global-delivery-status")
        let groups = ParsedReport.groups(report.parts[1].text)
        #expect(groups[0]["x-mailrelay-sender"] == "utf-8; jürgen@example.org")
        #expect(groups[1]["final-recipient"] == "utf-8; 用户@example.net")
        #expect(groups[2]["final-recipient"] == "rfc822; bob@example.net")
        #expect(report.parts[2].headers["content-type"] == "message/global-headers")
        #expect(report.parts[2].headers["content-transfer-encoding"] == "8bit")
        #expect(report.parts[2].text == headers)
        #expect(bytes.hasOnlyCRLFLineEnds)
        #expect(bytes.longestLine <= 998)
    }

    @Test func asciiOnlySMTPUTF8OriginalStillUsesGlobalTypesButStays7bit() throws {
        let bytes = Self.render(envelope: Self.envelope(smtputf8: true))
        let report = try ParsedReport(bytes)
        #expect(report.parts[1].headers["content-type"] == "message/global-delivery-status")
        #expect(report.parts[2].headers["content-type"] == "message/global-headers")
        #expect(report.headers["content-transfer-encoding"] == "7bit")
        #expect(bytes.allSatisfy { $0 < 0x80 })
    }

    @Test func nonASCIIAddressWithoutSMTPUTF8IsWrittenInRFC6533Form() throws {
        let failure = BounceMessage.FailedRecipient(address: "josé@example.net", reply: "550 5.1.1 No", remoteHost: nil, at: Self.now)
        let bytes = Self.render(failed: [failure])
        #expect(bytes.allSatisfy { $0 < 0x80 })
        let report = try ParsedReport(bytes)
        #expect(ParsedReport.groups(report.parts[1].text).last?["final-recipient"] == "utf-8; jos\\x{E9}@example.net")
    }

    @Test func boundaryNeverOccursInTheReturnedHeaders() throws {
        let plain = try ParsedReport(Self.render())
        // Headers that contain the very delimiter the bounce would otherwise use.
        let hostile = Self.headers + "X-Trap: x\r\n--\(plain.boundary)\r\n--\(plain.boundary).1\r\n"
        let report = try ParsedReport(Self.render(message: hostile + "\r\nbody\r\n"))
        #expect(report.boundary != plain.boundary)
        #expect(!hostile.contains("--" + report.boundary))
        #expect(report.parts.count == 3)
        #expect(report.parts.last?.text == hostile)
    }

    @Test func headersOverTheLimitAreCutAtALineAndTheTextSaysSo() throws {
        let line = "X-Filler: " + String(repeating: "z", count: 90) + "\r\n"  // 102 octets
        let headers = Self.headers + String(repeating: line, count: 1_000)  // ~100 KiB
        let bytes = Self.render(message: headers + "\r\n" + Self.body)
        let report = try ParsedReport(bytes)
        let returned = report.parts[2].content
        #expect(returned.count <= 64 * 1024)
        #expect(returned.count > 64 * 1024 - line.utf8.count)
        #expect(Array(headers.utf8).starts(with: returned), "whole lines from the start")
        #expect(returned.suffix(2) == [13, 10])
        #expect(report.parts[0].text.contains("the first 64 KiB of them"))
        #expect(!Self.render().contains("the first 64 KiB of them"))
    }

    @Test func messageWithoutABodyReturnsAllOfIt() throws {
        let report = try ParsedReport(Self.render(message: Self.headers))
        #expect(report.parts[2].text == Self.headers)
    }

    @Test func recipientIsTheOriginalSender() {
        let bounce = BounceMessage(
            reportingHost: Self.host, original: Self.envelope(), originalMessage: [], failed: Self.twoFailures, now: Self.now)
        #expect(bounce.recipient == "alice@example.org")
    }
}

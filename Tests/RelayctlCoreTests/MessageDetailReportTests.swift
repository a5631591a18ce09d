import Control
import RelayctlCore
import Testing

@Suite("MessageDetailReport")
struct MessageDetailReportTests {
    @Test func envelopeRecipientsAndHeadersWithoutTheBody() {
        let entry = QueueEntryFixtures.entry(recipients: [
            .init(address: "bob@example.org", status: .deferred, reply: "421 4.7.0 Try again later", at: 1_714_567_984),
            .init(address: "carol@example.net", status: .pending),
        ])
        let detail = MessageDetail(
            entry: entry, eightBitMIME: true, smtputf8: false,
            headers: "Received: from mastodon-sidekiq-0 ([10.0.3.7])\r\n\tby relay; Wed, 1 May 2024 10:46:00 +0000\r\nSubject: Weekly digest\r\n\r\n",
            headersTruncated: false)
        #expect(MessageDetailReport.lines(detail, now: QueueEntryFixtures.now) == [
            "Queue ID:    0F3A9C2E1B7D4",
            "State:       deferred",
            "Attempts:    5",
            "Next try:    in 12m (2024-05-01T13:12:00Z)",
            "Arrived:     2024-05-01T10:47:00Z (2h13m ago) from 10.0.3.7 (EHLO mastodon-sidekiq-0)",
            "Size:        4.1K (4198 bytes)",
            "Options:     BODY=8BITMIME",
            "From:        <notifications@mast.town>",
            "Recipients:",
            "  bob@example.org    deferred   421 4.7.0 Try again later (2024-05-01T12:53:04Z)",
            "  carol@example.net  pending",
            "Headers:",
            "Received: from mastodon-sidekiq-0 ([10.0.3.7])",
            "\tby relay; Wed, 1 May 2024 10:46:00 +0000",
            "Subject: Weekly digest",
        ])
    }

    @Test func theAttemptHistoryComesBeforeTheHeaders() {
        let entry = QueueEntryFixtures.entry(recipients: [
            .init(address: "bob@example.org", status: .deferred, reply: "421 4.7.0 Try again later", at: 1_714_567_984),
        ])
        let history = [
            MessageDetail.Attempt(at: 1_714_560_000, relay: "up.example[192.0.2.1]:587", recipients: [
                .init(address: "bob@example.org", status: .deferred, reply: "451 4.3.0 Busy"),
            ]),
            MessageDetail.Attempt(at: 1_714_567_984, relay: "up.example[192.0.2.1]:587", recipients: [
                .init(address: "bob@example.org", status: .deferred, reply: "421 4.7.0 Try again later"),
            ]),
        ]
        let detail = MessageDetail(
            entry: entry, eightBitMIME: false, smtputf8: false, headers: "Subject: x\r\n\r\n", headersTruncated: false,
            history: history)
        let lines = MessageDetailReport.lines(detail, now: QueueEntryFixtures.now)
        let start = try! #require(lines.firstIndex { $0.hasPrefix("History:") })
        #expect(Array(lines[start...]) == [
            "History: (the latest 2 of 5)",
            "  2024-05-01T10:40:00Z via up.example[192.0.2.1]:587",
            "    bob@example.org  deferred   451 4.3.0 Busy",
            "  2024-05-01T12:53:04Z via up.example[192.0.2.1]:587",
            "    bob@example.org  deferred   421 4.7.0 Try again later",
            "Headers:",
            "Subject: x",
        ])
    }

    @Test func aFailedMessageWithAConnectionErrorAndCutHeaders() {
        let entry = QueueEntryFixtures.entry(
            state: .failed, nextAttempt: nil, failedAt: 1_714_568_000, sender: "",
            recipients: [.init(address: "bob@example.org", status: .failed)], lastReply: "connect to a:25: Connection refused")
        let detail = MessageDetail(entry: entry, eightBitMIME: false, smtputf8: false, headers: "Subject: x\n", headersTruncated: true)
        let lines = MessageDetailReport.lines(detail, now: QueueEntryFixtures.now)
        #expect(lines.contains("Next try:    -"))
        #expect(lines.contains("Failed at:   2024-05-01T12:53:20Z, kept in failed/"))
        #expect(lines.contains("From:        <>"))
        #expect(lines.contains("  bob@example.org  failed"))
        #expect(lines.contains("Last error:  connect to a:25: Connection refused"))
        #expect(lines.suffix(2) == ["Subject: x", "[header section cut at 64.0K; relayctl show --raw has all of it]"])
    }
}

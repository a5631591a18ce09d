import Control
import RelayctlCore
import Testing

@Suite("QueueTable")
struct QueueTableTests {
    let table = QueueTable(now: QueueEntryFixtures.now)

    @Test func headerMatchesTheDocumentedColumns() {
        #expect(QueueTable.header == "ID             SIZE  AGE    STATE     TRIES  NEXT TRY  FROM                      TO")
    }

    @Test func aDeferredMessageIsOneRowWithItsLastReply() {
        #expect(table.lines(for: QueueEntryFixtures.entry()) == [
            "0F3A9C2E1B7D4  4.1K  2h13m  deferred  5      in 12m    notifications@mast.town   bob@example.org (421 4.7.0 Try again later)"
        ])
    }

    @Test func furtherRecipientsAreIndentedToTheToColumnAndDeliveredOnesLeftOut() {
        let entry = QueueEntryFixtures.entry(
            "0F3A9D11A2C01", state: .held, size: 1229, ageSeconds: 200, attempts: 1, nextAttempt: nil, sender: "",
            recipients: [
                .init(address: "alice@example.net", status: .deferred, reply: "451 4.3.0 Mailbox busy"),
                .init(address: "dave@example.net", status: .delivered, reply: "250 Ok"),
                .init(address: "carol@example.net", status: .pending),
            ])
        let lines = table.lines(for: entry)
        #expect(lines == [
            "0F3A9D11A2C01  1.2K  3m     held      1      -         <>                        alice@example.net (451 4.3.0 Mailbox busy)",
            String(repeating: " ", count: 81) + "carol@example.net",
        ])
        #expect(lines[0].firstRange(of: "alice")?.lowerBound.utf16Offset(in: lines[0]) == 81)
    }

    @Test func aFailedMessageListsItsFailedRecipients() {
        let entry = QueueEntryFixtures.entry(
            state: .failed, nextAttempt: nil, failedAt: 1_714_568_000,
            recipients: [
                .init(address: "ok@example.org", status: .delivered, reply: "250 Ok"),
                .init(address: "gone@example.org", status: .failed, reply: "550 5.1.1 No such user"),
            ])
        #expect(table.lines(for: entry)[0].hasSuffix("  failed    5      -         notifications@mast.town   gone@example.org (550 5.1.1 No such user)"))
    }

    @Test func aLongSenderPushesTheRestOfItsRowByOneSpace() {
        let sender = "very-long-sender-address@notifications.example.org"
        let line = table.lines(for: QueueEntryFixtures.entry(sender: sender))[0]
        #expect(line.contains("\(sender) bob@example.org"))
    }

    @Test(arguments: [
        (QueueEntry.State.deferred, Int?.some(1_714_568_400 + 720), "in 12m"),
        (.deferred, 1_714_568_400 - 5, "now"),
        (.deferred, 1_714_568_400 + 1, "in 1s"),
        (.queued, nil, "now"),
        (.deferred, nil, "-"),
        (.held, nil, "-"),
        (.active, nil, "-"),
        (.failed, nil, "-"),
    ])
    func nextTry(state: QueueEntry.State, next: Int?, text: String) {
        let entry = QueueEntryFixtures.entry(state: state, nextAttempt: next)
        #expect(NextTryText.format(entry, now: QueueEntryFixtures.now) == text)
    }
}

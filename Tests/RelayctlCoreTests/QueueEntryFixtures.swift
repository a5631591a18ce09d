import Control
import Spool

/// Queue entries as the listings tests need them.
enum QueueEntryFixtures {
    static let now = 1_714_568_400.0  // 2024-05-01T13:00:00Z

    static func entry(
        _ id: String = "0F3A9C2E1B7D4", state: QueueEntry.State = .deferred, size: Int = 4198, ageSeconds: Int = 7_980,
        attempts: Int = 5, nextAttempt: Int? = 1_714_568_400 + 720, failedAt: Int? = nil,
        sender: String = "notifications@mast.town", recipients: [QueueEntry.Recipient]? = nil, lastReply: String? = nil
    ) -> QueueEntry {
        let recipients = recipients ?? [
            QueueEntry.Recipient(address: "bob@example.org", status: .deferred, reply: "421 4.7.0 Try again later", at: 1_714_567_980)
        ]
        return QueueEntry(
            id: QueueID(id)!, state: state, size: size, arrival: Int(now) - ageSeconds, ageSeconds: ageSeconds,
            attempts: attempts, nextAttempt: nextAttempt, failedAt: failedAt, sender: sender,
            client: .init(address: "10.0.3.7", name: "mastodon-sidekiq-0"), recipients: recipients,
            lastReply: lastReply ?? recipients.compactMap(\.reply).last)
    }
}

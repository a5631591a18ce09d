import Control
import Spool
import Testing

@Suite("QueueFilter")
struct QueueFilterTests {
    static func entry(_ state: QueueEntry.State, sender: String = "Alice@Example.org", recipients: [String] = ["bob@example.net"], age: Int = 100) -> QueueEntry {
        QueueEntry(
            id: QueueID("01HX0000000AB")!, state: state, size: 10, arrival: 0, ageSeconds: age, attempts: 0, nextAttempt: nil,
            failedAt: nil, sender: sender, client: .init(address: "192.0.2.1", name: "c"),
            recipients: recipients.map { .init(address: $0, status: .pending) }, lastReply: nil)
    }

    @Test(arguments: [
        (QueueFilter(), entry(.queued), true),
        (QueueFilter(states: [.deferred, .held]), entry(.held), true),
        (QueueFilter(states: [.deferred, .held]), entry(.queued), false),
        (QueueFilter(from: "alice"), entry(.queued), true),
        (QueueFilter(from: "EXAMPLE.ORG"), entry(.queued), true),
        (QueueFilter(from: "bob"), entry(.queued), false),
        (QueueFilter(from: "<>"), entry(.queued, sender: ""), true),
        (QueueFilter(from: "<>"), entry(.queued), false),
        (QueueFilter(from: ""), entry(.queued, sender: ""), true),
        (QueueFilter(to: "CAROL"), entry(.queued, recipients: ["bob@example.net", "carol@example.com"]), true),
        (QueueFilter(to: "dave"), entry(.queued, recipients: ["bob@example.net", "carol@example.com"]), false),
        (QueueFilter(olderThanSeconds: 99), entry(.queued, age: 100), true),
        (QueueFilter(olderThanSeconds: 100), entry(.queued, age: 100), false),
        (QueueFilter(states: [.failed], from: "alice", to: "bob", olderThanSeconds: 10), entry(.failed), true),
        (QueueFilter(states: [.failed], from: "alice", to: "bob", olderThanSeconds: 10), entry(.deferred), false),
        (QueueFilter(from: "ñandú"), entry(.queued, sender: "ÑANDÚ@example.org"), true),
    ])
    func matches(filter: QueueFilter, entry: QueueEntry, expected: Bool) {
        #expect(filter.matches(entry) == expected)
    }

    @Test func jsonRoundTripAndDefaults() throws {
        let filter = QueueFilter(states: [.held, .deferred], from: "a", to: nil, olderThanSeconds: 60)
        #expect(String(decoding: filter.jsonBytes, as: UTF8.self)
            == #"{"states":["deferred","held"],"from":"a","to":null,"older_than_seconds":60}"#)
        #expect(try QueueFilter(jsonBytes: filter.jsonBytes) == filter)
        #expect(try QueueFilter(jsonBytes: Array("{}".utf8)) == .all)
        #expect(throws: Error.self) { try QueueFilter(jsonBytes: Array(#"{"states":["sleeping"]}"#.utf8)) }
    }
}

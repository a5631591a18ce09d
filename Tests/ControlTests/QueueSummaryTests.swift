import Control
import Testing

@Suite("QueueSummary")
struct QueueSummaryTests {
    @Test func addsUpCountsBytesAndTheOldestQueuedAge() throws {
        var summary = QueueSummary()
        #expect(summary.messages == 0 && summary.oldestAgeSeconds == nil)
        for (state, age) in [(QueueEntry.State.queued, 10), (.deferred, 500), (.deferred, 20), (.held, 30), (.active, 40), (.failed, 9_000)] {
            var entry = QueueFilterTests.entry(state, age: age)
            entry.size = age
            summary.add(entry)
        }
        #expect(summary.counts == QueueStateCounts(queued: 1, active: 1, deferred: 2, held: 1, failed: 1))
        #expect(summary.messages == 6)
        #expect(summary.bytes == 10 + 500 + 20 + 30 + 40 + 9_000)
        #expect(summary.oldestAgeSeconds == 500, "failed messages are finished, not waiting")

        summary.unreadable = ["queue/X.msg: bad preamble"]
        #expect(String(decoding: summary.jsonBytes, as: UTF8.self) == """
            {"messages":6,"counts":{"queued":1,"active":1,"deferred":2,"held":1,"failed":1},"bytes":9600,\
            "oldest_age_seconds":500,"unreadable":["queue/X.msg: bad preamble"]}
            """)
        #expect(try QueueSummary(jsonBytes: summary.jsonBytes) == summary)
    }
}

import Control
import RelayctlCore
import Testing

@Suite("QueueSummaryLine")
struct QueueSummaryLineTests {
    @Test func countsOnlyTheStatesPresentInTheirOrder() {
        var summary = QueueSummary()
        summary.add(QueueEntryFixtures.entry(state: .held, size: 1229, ageSeconds: 200))
        summary.add(QueueEntryFixtures.entry(size: 4198, ageSeconds: 7_980))
        summary.add(QueueEntryFixtures.entry(size: 7270, ageSeconds: 60))
        #expect(QueueSummaryLine.text(summary) == "3 messages, 12.4K — 2 deferred, 1 held; oldest 2h13m")
    }

    @Test func oneMessageIsSingularAndFailedOnesHaveNoOldest() {
        var summary = QueueSummary()
        summary.add(QueueEntryFixtures.entry(state: .failed, size: 812))
        #expect(QueueSummaryLine.text(summary) == "1 message, 812 — 1 failed")
    }
}

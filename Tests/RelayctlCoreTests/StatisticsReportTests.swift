import Control
import RelayctlCore
import Testing

@Suite("StatisticsReport")
struct StatisticsReportTests {
    static var twoDeferred: QueueSummary {
        var summary = QueueSummary()
        summary.add(QueueEntryFixtures.entry(size: 1200, ageSeconds: 200))
        summary.add(QueueEntryFixtures.entry(size: 1300, ageSeconds: 100))
        return summary
    }

    @Test func fromRelaydWithAnUnreachableUpstream() {
        let statistics = QueueStatistics(
            queue: Self.twoDeferred, lastHour: .init(delivered: 10, deferred: 2, bounced: 0),
            upstreams: [
                .init(endpoint: "smtp-relay.brevo.com:587", reachable: false,
                      lastError: "connect to smtp-relay.brevo.com[1.2.3.4]:587: Connection refused", lastErrorAt: 1_714_564_984),
                .init(endpoint: "smtp.backup.example:587", reachable: true),
            ])
        #expect(StatisticsReport.lines(statistics, now: QueueEntryFixtures.now) == [
            "queued: 0  active: 0  deferred: 2  held: 0  failed: 0   (2 messages, 2.4K, oldest 3m)",
            "last hour: delivered 10, deferred 2, bounced 0",
            "upstream smtp-relay.brevo.com:587: unreachable, last error at 12:03:04 UTC: connect to smtp-relay.brevo.com[1.2.3.4]:587: Connection refused",
            "upstream smtp.backup.example:587: reachable",
        ])
    }

    @Test func anErrorOnAnotherDayShowsItsDate() {
        let statistics = QueueStatistics(
            queue: QueueSummary(), lastHour: .init(delivered: 0, deferred: 0, bounced: 0),
            upstreams: [.init(endpoint: "a:25", reachable: false, lastError: "timed out", lastErrorAt: 1_714_478_584)])
        #expect(StatisticsReport.lines(statistics, now: QueueEntryFixtures.now) == [
            "queued: 0  active: 0  deferred: 0  held: 0  failed: 0   (0 messages, 0)",
            "last hour: delivered 0, deferred 0, bounced 0",
            "upstream a:25: unreachable, last error at 2024-04-30 12:03:04 UTC: timed out",
        ])
    }

    @Test func readFromTheSpoolTheRestIsUnknown() {
        let lines = StatisticsReport.lines(QueueStatistics(queue: Self.twoDeferred), now: QueueEntryFixtures.now)
        #expect(lines == [
            "queued: 0  active: 0  deferred: 2  held: 0  failed: 0   (2 messages, 2.4K, oldest 3m)",
            "last hour, upstream: unknown (relayd is not running)",
        ])
    }

    @Test func theOutboxHasNoUpstream() {
        let statistics = QueueStatistics(queue: QueueSummary(), lastHour: .init(delivered: 1, deferred: 0, bounced: 0), upstreams: [])
        #expect(StatisticsReport.lines(statistics, now: QueueEntryFixtures.now).last == "upstream: none (messages go to the outbox folder)")
    }
}

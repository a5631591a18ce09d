import Delivery
import MetricsTestKit
import RelayTesting
import Spool
import Testing

/// What the queue runner counts, through a swift-metrics test factory (no global bootstrap).
@Suite("DeliveryMetrics")
struct DeliveryMetricsTests {
    @Test func recipientsAreCountedByOutcomeAndEachAttemptIsTimed() async throws {
        let metrics = TestMetrics()
        let transport = ScriptedTransport([[
            "a@example.net": .delivered("250 2.0.0 Ok"),
            "b@example.net": .deferred("451 4.3.0 later"),
            "c@example.net": .failed("550 5.1.1 unknown"),
            "d@example.net": .delivered("250 2.0.0 Ok"),
        ]])
        let harness = try RunnerHarness(transport: transport, metrics: DeliveryMetrics(factory: metrics))
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(
            recipients: ["a@example.net", "b@example.net", "c@example.net", "d@example.net"])
        _ = try #require(await harness.waitForState(id, attempts: 1))
        #expect(await eventually { metrics.counterTotal(label: "mailrelay_recipients_deferred_total") == 1 })
        #expect(metrics.counterTotal(label: "mailrelay_recipients_delivered_total") == 2)
        #expect(metrics.counterTotal(label: "mailrelay_recipients_bounced_total") == 1)
        let timer = try metrics.expectTimer("mailrelay_delivery_attempt_duration_seconds")
        #expect(timer.values.count == 1)
    }
}

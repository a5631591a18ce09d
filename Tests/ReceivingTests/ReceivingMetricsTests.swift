import MetricsTestKit
import Receiving
import RelayTesting
import Testing

/// What the SMTP server counts, through a swift-metrics test factory (no global bootstrap).
@Suite("ReceivingMetrics")
struct ReceivingMetricsTests {
    @Test func onlyCommittedMessagesCountAsReceived() async throws {
        let metrics = TestMetrics()
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool, metrics: ReceivingMetrics(factory: metrics))
            let client = try await harness.connect()
            #expect(harness.server.isAccepting)
            #expect(try await client.command("EHLO client.example").code == 250)
            for subject in ["one", "two"] {
                #expect(try await client.command("MAIL FROM:<a@example.org>").code == 250)
                #expect(try await client.command("RCPT TO:<b@example.net>").code == 250)
                #expect(try await client.command("DATA").code == 354)
                try await client.send("Subject: \(subject)\r\n\r\nbody\r\n.\r\n")
                #expect(try await client.readReply().code == 250)
            }
            // Refused after the final dot (a bare LF): not received.
            #expect(try await client.command("MAIL FROM:<a@example.org>").code == 250)
            #expect(try await client.command("RCPT TO:<b@example.net>").code == 250)
            #expect(try await client.command("DATA").code == 354)
            try await client.send("Subject: bare\n\r\nbody\r\n.\r\n")
            #expect(try await client.readReply().code == 550)
            #expect(try await client.command("BOGUS").code == 500)
            #expect(try await client.command("QUIT").code == 221)
            #expect(metrics.counterTotal(label: "mailrelay_messages_received_total") == 2)
            #expect(metrics.counterTotal(label: "mailrelay_messages_rejected_total", dimensions: [("reason", "bare_line_end")]) == 1)
            #expect(metrics.counterTotal(label: "mailrelay_messages_rejected_total") == 1, "syntax errors and the like are not counted")
            #expect(await harness.stop())
            #expect(!harness.server.isAccepting)
        }
    }

    @Test func aConnectionOverTheLimitCountsAsRejected() async throws {
        let metrics = TestMetrics()
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(
                spool: temp.spool, configuration: ServerHarness.configuration(maxConnections: 1),
                metrics: ReceivingMetrics(factory: metrics))
            let first = try await harness.connect()
            let second = try await SMTPTestClient.connect(port: harness.address.port)
            #expect(try await second.readReply().code == 421)
            #expect(metrics.counterTotal(label: "mailrelay_messages_rejected_total", dimensions: [("reason", "max_connections")]) == 1)
            #expect(try await first.command("QUIT").code == 221)
            #expect(await harness.stop())
        }
    }
}

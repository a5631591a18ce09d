import Receiving
import RelayTesting
import Spool
import Testing
import Transport

/// `SMTPServer.reconfigure`: sessions that start after a configuration reload get the new settings, sessions
/// already open keep theirs, and the listeners stay where they are.
@Suite("SMTPServer reconfigure")
struct SMTPServerReconfigureTests {
    @Test func onlySessionsStartedAfterTheReloadGetTheNewRelayPolicy() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool)
            let before = try await harness.connect()

            harness.server.reconfigure(ServerHarness.configuration(allowed: ["10.0.0.0/8"]))

            let after = try await harness.connect()
            #expect(try await after.command("EHLO client.example").code == 250)
            #expect(try await after.command("MAIL FROM:<a@example.org>").code == 250)
            let denied = try await after.command("RCPT TO:<b@example.net>")
            #expect(denied.code == 554)
            #expect(denied.text.hasPrefix("5.7.1 "))
            // The session open during the reload goes on under the policy it started with.
            #expect(try await before.command("EHLO client.example").code == 250)
            #expect(try await before.command("MAIL FROM:<a@example.org>").code == 250)
            #expect(try await before.command("RCPT TO:<b@example.net>").code == 250)
            #expect(await harness.stop())
        }
    }

    @Test func aNewMaximumMessageSizeAndHostnameShowInTheEHLOOfNewSessions() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool)
            let before = try await harness.connect()
            var reloaded = ServerHarness.configuration(maxMessageSize: 2_000_000)
            reloaded.hostname = "reloaded.example"

            harness.server.reconfigure(reloaded)

            let after = try await harness.connect()
            let ehlo = try await after.command("EHLO client.example")
            #expect(ehlo.lines.first == "reloaded.example")
            #expect(ehlo.lines.contains("SIZE 2000000"), "\(ehlo)")
            let old = try await before.command("EHLO client.example")
            #expect(old.lines.first == "test.example")
            #expect(old.lines.contains("SIZE 1048576"), "\(old)")
            #expect(await harness.stop())
        }
    }

    @Test func aLowerConnectionLimitAppliesToTheNextConnection() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool)
            let open = try await harness.connect()

            harness.server.reconfigure(ServerHarness.configuration(maxConnections: 1))

            let refused = try await SMTPTestClient.connect(port: harness.address.port)
            let reply = try await refused.readReply()
            #expect(reply.code == 421, "\(reply)")
            #expect(try await refused.readEndOfStream())
            #expect(try await open.command("NOOP").code == 250, "the session already open is not counted out")
            #expect(await harness.stop())
        }
    }

    /// The listeners are bound once: a reload naming other addresses (or another shutdown grace) changes
    /// neither, while the rest of it still applies.
    @Test func theListenAddressesAndShutdownGraceStay() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool)
            let bound = harness.server.boundAddresses
            let configured = harness.server.configuration.listen
            var reloaded = ServerHarness.configuration()
            reloaded.maxRecipients = 3
            reloaded.listen = [ListenAddress(host: "127.0.0.1", port: 1)]
            reloaded.shutdownGrace = .seconds(30)

            harness.server.reconfigure(reloaded)

            #expect(harness.server.boundAddresses == bound)
            #expect(harness.server.configuration.listen == configured)
            #expect(harness.server.configuration.shutdownGrace == .milliseconds(200))
            #expect(harness.server.configuration.maxRecipients == 3)
            let client = try await harness.connect()
            #expect(try await client.command("EHLO client.example").code == 250)
            #expect(try await client.command("MAIL FROM:<a@example.org>").code == 250)
            for n in 1...3 { #expect(try await client.command("RCPT TO:<r\(n)@example.net>").code == 250) }
            #expect(try await client.command("RCPT TO:<r4@example.net>").code == 452, "the new max_recipients")
            #expect(await harness.stop())
        }
    }
}

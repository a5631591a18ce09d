import Delivery
import Logging
import RelayTesting
import SMTPProtocol
import Spool
import Testing
import Transport

/// The upstream transport against the fake upstream: TLS, AUTH, per-recipient outcomes and faults, one
/// delivery at a time (the queue runner's part is in UpstreamRelayTests).
@Suite struct UpstreamTransportTests {
    static let login = (username: "relay@example.com", password: "s3cret-key")

    /// A fake upstream with a certificate for `names` from a fresh test CA, plus a client context trusting it.
    struct TLSFixture {
        let ca: TestCertificateAuthority
        let server: TLSContext
        let trusting: TLSContext

        init(names: [String] = ["localhost", "127.0.0.1"]) throws {
            ca = try TestCertificateAuthority()
            let issued = try ca.issue(names: names)
            server = try TLSContext.server(certificateChainFile: issued.certificateChainFile, privateKeyFile: issued.privateKeyFile)
            trusting = try TLSContext.client(caFile: ca.caFile, verifyCertificate: true)
        }
    }

    static func configuration(
        port: UInt16, host: String = "localhost", security: ClientSession.Security = .startTLS, tls: TLSContext?,
        credentials: SASLCredentials? = SASLCredentials(username: login.username, password: login.password),
        commandTimeout: Duration = .seconds(60)
    ) -> UpstreamConfiguration {
        UpstreamConfiguration(
            host: host, port: port, security: security, tlsContext: tls, credentials: credentials,
            heloName: "relay.test", connections: 2, connectTimeout: .seconds(60), commandTimeout: commandTimeout,
            dataTimeout: .seconds(60), idleTimeout: .seconds(10))
    }

    /// A plain (tls: none) loopback upstream without AUTH: for tests about outcomes and faults, not TLS.
    static func plain(port: UInt16, commandTimeout: Duration = .seconds(60)) -> UpstreamConfiguration {
        configuration(port: port, host: "127.0.0.1", security: .none, tls: nil, credentials: nil, commandTimeout: commandTimeout)
    }

    static func message(
        sender: String = "alice@example.org", recipients: [String] = ["bob@example.net"],
        body: String = "Subject: hi\r\n\r\nHello\r\n.leading dot\r\n"
    ) -> OutboundMessage {
        let envelope = MessageEnvelope(
            id: QueueID("0123456789ABC")!, sender: sender, recipients: recipients, receivedAt: 0,
            clientAddress: "127.0.0.1", clientName: "client.test", eightBitMIME: false, smtputf8: false)
        return OutboundMessage(envelope: envelope, body: Array(body.utf8), recipients: recipients)
    }

    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func startTLSWithAuthDeliversTheMessageByteForByte() async throws {
        let tls = try TLSFixture()
        var script = FakeUpstream.Script()
        script.tls = tls.server
        script.requireTLS = true
        script.login = Self.login
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(configuration: Self.configuration(port: upstream.port, tls: tls.trusting), logger: Self.logger)

        let report = await transport.deliver(Self.message())

        guard case .delivered(let reply)? = report.outcomes["bob@example.net"] else {
            Issue.record("expected delivery, got \(report)")
            return
        }
        #expect(reply.hasPrefix("250 2.0.0"))
        #expect(report.relay == "localhost[127.0.0.1]:\(upstream.port)")
        let received = try #require(upstream.messages.first)
        #expect(upstream.messages.count == 1)
        #expect(received.data == Array("Subject: hi\r\n\r\nHello\r\n.leading dot\r\n".utf8))
        #expect(received.secure)
        #expect(received.login == Self.login.username)
        #expect(received.sender == "alice@example.org")
        // Credentials and the envelope went only over TLS.
        let sensitive = upstream.commands.filter { !["EHLO", "STARTTLS"].contains($0.line.split(separator: " ").first.map(String.init) ?? "") }
        let inTheClear = sensitive.filter { !$0.secure }
        #expect(inTheClear.isEmpty, "sent in the clear: \(inTheClear)")
    }

    @Test func authLoginIsUsedWhenPlainIsNotOffered() async throws {
        let tls = try TLSFixture()
        var script = FakeUpstream.Script()
        script.tls = tls.server
        script.login = Self.login
        script.authMechanisms = ["LOGIN"]
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(configuration: Self.configuration(port: upstream.port, tls: tls.trusting), logger: Self.logger)

        let report = await transport.deliver(Self.message())

        #expect(report.outcomes["bob@example.net"].map { if case .delivered = $0 { true } else { false } } == true)
        #expect(upstream.commands.contains { $0.line == "AUTH LOGIN" })
        #expect(upstream.messages.first?.login == Self.login.username)
    }

    @Test func missingStartTLSDefersAndSendsNothingInTheClear() async throws {
        var script = FakeUpstream.Script()
        script.tls = nil  // offers no STARTTLS
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(
            configuration: Self.configuration(port: upstream.port, tls: try TLSContext.client(caFile: nil, verifyCertificate: true)),
            logger: Self.logger)

        let report = await transport.deliver(Self.message())

        guard case .deferred(let reason)? = report.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(report)")
            return
        }
        #expect(reason.contains("STARTTLS"))
        #expect(upstream.commands.map(\.line).allSatisfy { $0.hasPrefix("EHLO") || $0 == "QUIT" }, "\(upstream.commands)")
        #expect(upstream.messages.isEmpty)
    }

    /// An upstream with a certificate from the test CA, and a transport that checks it against the system trust
    /// store, which does not know that CA: every handshake fails after connecting.
    static func untrustedUpstream() throws -> (FakeUpstream, UpstreamTransport) {
        var script = FakeUpstream.Script()
        script.tls = try TLSFixture().server
        let upstream = try FakeUpstream(script: script)
        let transport = UpstreamTransport(
            configuration: configuration(port: upstream.port, tls: try TLSContext.client(caFile: nil, verifyCertificate: true)),
            logger: logger)
        return (upstream, transport)
    }

    @Test func untrustedCertificateDefers() async throws {
        let (upstream, transport) = try Self.untrustedUpstream()
        defer { upstream.stop() }

        let report = await transport.deliver(Self.message())

        guard case .deferred(let reason)? = report.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(report)")
            return
        }
        #expect(reason.contains("TLS"), "\(reason)")
        #expect(upstream.messages.isEmpty)
        #expect(!upstream.commands.contains { $0.line.hasPrefix("MAIL") || $0.line.hasPrefix("AUTH") })
    }

    /// While suspended after a failure with an address, deferrals name the relay as the failed attempt did
    /// (`host[address]:port`), so log lines about one upstream group together.
    @Test func deferralsWhileSuspendedNameTheRelayAsTheFailedAttemptDid() async throws {
        let (upstream, transport) = try Self.untrustedUpstream()
        defer { upstream.stop() }

        let failed = await transport.deliver(Self.message())
        let suspended = await transport.deliver(Self.message())

        #expect(failed.relay == "localhost[127.0.0.1]:\(upstream.port)", "the TLS failure came after connecting")
        #expect(suspended.relay == failed.relay)
        guard case .deferred(let reason)? = suspended.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(suspended)")
            return
        }
        #expect(reason.hasPrefix("delivery temporarily suspended: "), "\(reason)")
    }

    @Test func certificateForAnotherNameDefers() async throws {
        let tls = try TLSFixture(names: ["mail.other.test"])
        var script = FakeUpstream.Script()
        script.tls = tls.server
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(configuration: Self.configuration(port: upstream.port, tls: tls.trusting), logger: Self.logger)

        let report = await transport.deliver(Self.message())

        guard case .deferred(let reason)? = report.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(report)")
            return
        }
        #expect(reason.lowercased().contains("host") || reason.lowercased().contains("name"), "\(reason)")
        #expect(upstream.messages.isEmpty)
    }

    @Test func implicitTLSDelivers() async throws {
        let tls = try TLSFixture()
        var script = FakeUpstream.Script()
        script.tls = tls.server
        script.implicitTLS = true
        script.login = Self.login
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(
            configuration: Self.configuration(port: upstream.port, security: .implicitTLS, tls: tls.trusting), logger: Self.logger)

        let report = await transport.deliver(Self.message())

        #expect(report.outcomes["bob@example.net"].map { if case .delivered = $0 { true } else { false } } == true, "\(report)")
        #expect(upstream.messages.first?.secure == true)
        #expect(!upstream.commands.contains { $0.line == "STARTTLS" })
    }

    @Test func refusedLoginDefersWithTheUpstreamsReply() async throws {
        let tls = try TLSFixture()
        var script = FakeUpstream.Script()
        script.tls = tls.server
        script.login = (username: Self.login.username, password: "another-password")
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(configuration: Self.configuration(port: upstream.port, tls: tls.trusting), logger: Self.logger)

        let report = await transport.deliver(Self.message())

        guard case .deferred(let reason)? = report.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(report)")
            return
        }
        #expect(reason.contains("535"))
        #expect(!reason.contains(Self.login.password))
        #expect(upstream.messages.isEmpty)
    }

    @Test func recipientsGetTheirOwnOutcomes() async throws {
        var script = FakeUpstream.Script()
        script.recipientReplies = ["gone@example.net": "550 5.1.1 <gone@example.net>: user unknown",
                                   "busy@example.net": "452 4.2.2 Mailbox full"]
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(configuration: Self.plain(port: upstream.port), logger: Self.logger)

        let report = await transport.deliver(Self.message(recipients: ["bob@example.net", "gone@example.net", "busy@example.net"]))

        #expect(report.outcomes["gone@example.net"] == .failed("550 5.1.1 <gone@example.net>: user unknown"))
        #expect(report.outcomes["busy@example.net"] == .deferred("452 4.2.2 Mailbox full"))
        guard case .delivered? = report.outcomes["bob@example.net"] else {
            Issue.record("expected bob delivered, got \(report)")
            return
        }
        #expect(upstream.messages.map(\.recipients) == [["bob@example.net"]])
    }

    @Test func connectionDroppedDuringDataDefers() async throws {
        var script = FakeUpstream.Script()
        script.dropDuringData = (afterBytes: 1, times: 1)
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(configuration: Self.plain(port: upstream.port), logger: Self.logger)

        let first = await transport.deliver(Self.message())
        let second = await transport.deliver(Self.message())

        guard case .deferred? = first.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(first)")
            return
        }
        guard case .delivered? = second.outcomes["bob@example.net"] else {
            Issue.record("expected delivery on the next attempt, got \(second)")
            return
        }
        #expect(upstream.messages.count == 1)
    }

    @Test func silentUpstreamTimesOut() async throws {
        var script = FakeUpstream.Script()
        script.stall = true
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(
            configuration: Self.plain(port: upstream.port, commandTimeout: .seconds(1)),
            logger: Self.logger)

        let started = ContinuousClock.now
        let report = await transport.deliver(Self.message())

        guard case .deferred(let reason)? = report.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(report)")
            return
        }
        #expect(reason.contains("no reply within 1.0 seconds (waiting for the greeting)"), "the command timeout applies: \(reason)")
        #expect(started.duration(to: .now) < .seconds(60), "far below the 5-minute default")
    }

    @Test func downUpstreamDefers() async throws {
        let port = try FakeUpstream.closedPort()
        let transport = UpstreamTransport(configuration: Self.plain(port: port), logger: Self.logger)

        let report = await transport.deliver(Self.message())

        guard case .deferred(let reason)? = report.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(report)")
            return
        }
        #expect(reason.contains("connect to 127.0.0.1:\(port)"), "\(reason)")
    }

    @Test func afterAFailedConnectionDeliveriesAreSuspendedBriefly() async throws {
        let port = try FakeUpstream.closedPort()
        let transport = UpstreamTransport(configuration: Self.plain(port: port), logger: Self.logger)
        _ = await transport.deliver(Self.message())
        let upstream = try FakeUpstream(script: .init(), port: port)
        defer { upstream.stop() }

        let report = await transport.deliver(Self.message())

        guard case .deferred(let reason)? = report.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(report)")
            return
        }
        #expect(reason.hasPrefix("delivery temporarily suspended: connect to 127.0.0.1:\(port)"), "\(reason)")
        #expect(upstream.connectionCount == 0, "no connection attempt while suspended")
    }

    /// `relayctl flush` after an outage is fixed: the pause ends and the next delivery connects at once.
    @Test func endingTheSuspensionLetsTheNextDeliveryConnect() async throws {
        let port = try FakeUpstream.closedPort()
        let transport = UpstreamTransport(configuration: Self.plain(port: port), logger: Self.logger)
        _ = await transport.deliver(Self.message())
        let upstream = try FakeUpstream(script: .init(), port: port)
        defer { upstream.stop() }
        #expect(await transport.status()?.reachable == false)

        await transport.endSuspension()
        let report = await transport.deliver(Self.message())

        guard case .delivered? = report.outcomes["bob@example.net"] else {
            Issue.record("expected a delivery, got \(report)")
            return
        }
        #expect(upstream.connectionCount == 1)
        #expect(await transport.status()?.reachable == true)
    }

    @Test func anUnreachablePrimaryFallsBackToTheNextUpstream() async throws {
        let down = try FakeUpstream.closedPort()
        let fallback = try FakeUpstream(script: .init())
        defer { fallback.stop() }
        let transport = UpstreamTransport(
            configuration: Self.plain(port: down),
            fallbacks: [Self.plain(port: fallback.port)],
            logger: Self.logger)

        let report = await transport.deliver(Self.message())

        guard case .delivered? = report.outcomes["bob@example.net"] else {
            Issue.record("expected delivery through the fallback, got \(report)")
            return
        }
        #expect(report.relay == "127.0.0.1[127.0.0.1]:\(fallback.port)")
        #expect(fallback.messages.count == 1)
    }

    @Test func aPrimaryRefusingAtTheGreetingFallsBackButAnswersAboutTheMessageDoNot() async throws {
        var refusing = FakeUpstream.Script()
        refusing.refusalGreeting = "421 4.3.2 Service shutting down"
        let primary = try FakeUpstream(script: refusing)
        defer { primary.stop() }
        var busy = FakeUpstream.Script()
        busy.temporaryFailures = 1  // the fallback answers MAIL with 451 once
        let fallback = try FakeUpstream(script: busy)
        defer { fallback.stop() }
        let transport = UpstreamTransport(
            configuration: Self.plain(port: primary.port),
            fallbacks: [Self.plain(port: fallback.port)],
            logger: Self.logger)

        let first = await transport.deliver(Self.message())
        let second = await transport.deliver(Self.message())

        #expect(first.outcomes["bob@example.net"] == .deferred("451 4.3.0 Try again later"), "\(first)")
        guard case .delivered? = second.outcomes["bob@example.net"] else {
            Issue.record("expected delivery, got \(second)")
            return
        }
        #expect(primary.connectionCount == 1, "the primary is suspended after refusing us")
        #expect(fallback.messages.count == 1)
    }

    @Test func aPooledSessionTheUpstreamTimedOutWithA421IsReplacedWithoutDeferring() async throws {
        var script = FakeUpstream.Script()
        // Long enough that a loaded machine does not stall a live session past it.
        script.idleTimeout = .seconds(2)
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(configuration: Self.plain(port: upstream.port), logger: Self.logger)
        _ = await transport.deliver(Self.message())
        try await Task.sleep(for: .seconds(4))  // the fake says 421 and hangs up on the idle session

        let report = await transport.deliver(Self.message())

        guard case .delivered? = report.outcomes["bob@example.net"] else {
            Issue.record("expected delivery on a fresh session, got \(report)")
            return
        }
        #expect(upstream.messages.count == 2)
        #expect(upstream.connectionCount == 2)
    }

    @Test func aRefusalStandsWhenTheUpstreamHangsUpRightAfter() async throws {
        var script = FakeUpstream.Script()
        script.recipientReplies = ["gone@example.net": "550 5.1.1 <gone@example.net>: user unknown"]
        script.hangUpAfterRefusingData = true
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let transport = UpstreamTransport(configuration: Self.plain(port: upstream.port), logger: Self.logger)

        let report = await transport.deliver(Self.message(recipients: ["gone@example.net"]))

        #expect(report.outcomes["gone@example.net"] == .failed("550 5.1.1 <gone@example.net>: user unknown"), "\(report)")
    }

    @Test func sessionsAreReusedAndClosedWhenIdle() async throws {
        let upstream = try FakeUpstream(script: .init())
        defer { upstream.stop() }
        let transport = UpstreamTransport(configuration: Self.plain(port: upstream.port), logger: Self.logger)

        for _ in 0..<3 { _ = await transport.deliver(Self.message()) }
        #expect(upstream.messages.count == 3)
        #expect(upstream.connectionCount == 1)

        await transport.closeIdle(olderThan: .zero)
        #expect(await eventually { upstream.commands.last?.line == "QUIT" })
    }

    @Test func aSessionDroppedWhileIdleIsReplacedWithoutDeferring() async throws {
        let upstream = try FakeUpstream(script: .init())
        let port = upstream.port
        let transport = UpstreamTransport(configuration: Self.plain(port: port), logger: Self.logger)
        _ = await transport.deliver(Self.message())
        upstream.stop()  // the pooled session's peer goes away …
        let restarted = try FakeUpstream(script: .init(), port: port)  // … and the upstream comes back
        defer { restarted.stop() }

        let report = await transport.deliver(Self.message())

        guard case .delivered? = report.outcomes["bob@example.net"] else {
            Issue.record("expected delivery on a fresh session, got \(report)")
            return
        }
        #expect(restarted.messages.count == 1)
    }
}

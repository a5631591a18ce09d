import Delivery
import Foundation
import Logging
import RelayTesting
import SMTPProtocol
import Threading
import Testing
import Transport

/// `UpstreamTransport.reconfigure`: after a configuration reload new sessions use the new settings, no
/// session opened under the old ones goes on being used, and endpoint health starts afresh.
@Suite struct UpstreamTransportReconfigureTests {
    static let username = "relay@example.com"

    /// A plain loopback upstream (AUTH may go in the clear to 127.0.0.1), optionally logging in.
    static func configuration(port: UInt16, password: String? = nil, heloName: String = "relay.test") -> UpstreamConfiguration {
        UpstreamConfiguration(
            host: "127.0.0.1", port: port, security: .none, tlsContext: nil,
            credentials: password.map { SASLCredentials(username: username, password: $0) }, heloName: heloName,
            connections: 2, connectTimeout: .seconds(60), commandTimeout: .seconds(60), dataTimeout: .seconds(60),
            idleTimeout: .seconds(10))
    }

    static func script(password: String) -> FakeUpstream.Script {
        var script = FakeUpstream.Script()
        script.login = (username: username, password: password)
        return script
    }

    /// The passwords sent with `AUTH PLAIN <initial response>`, in the order the upstream received them.
    static func passwords(_ upstream: FakeUpstream) -> [String] {
        upstream.commands.compactMap { command in
            let parts = command.line.split(separator: " ")
            guard parts.count == 3, parts[0] == "AUTH", parts[1] == "PLAIN", let data = Data(base64Encoded: String(parts[2]))
            else { return nil }
            return String(decoding: data.split(separator: 0, omittingEmptySubsequences: false).last ?? [], as: UTF8.self)
        }
    }

    static func delivered(_ report: DeliveryReport) -> Bool {
        if case .delivered? = report.outcomes["bob@example.net"] { true } else { false }
    }

    static func quits(_ upstream: FakeUpstream) -> Int {
        upstream.commands.filter { $0.line == "QUIT" }.count
    }

    /// Same upstream, rotated password: the pooled session logged in with the old one is closed at the
    /// reload, and the next message goes over a new connection that logs in with the new password.
    @Test func aNewPasswordIsUsedOnANewConnectionAndThePooledSessionIsClosed() async throws {
        let upstream = try FakeUpstream(script: Self.script(password: "old-key"))
        defer { upstream.stop() }
        let transport = UpstreamTransport(
            configuration: Self.configuration(port: upstream.port, password: "old-key"), logger: UpstreamTransportTests.logger)
        #expect(Self.delivered(await transport.deliver(UpstreamTransportTests.message())))
        #expect(Self.quits(upstream) == 0, "the session is pooled, not closed")

        transport.reconfigure(configuration: Self.configuration(port: upstream.port, password: "new-key"))
        #expect(await eventually { Self.quits(upstream) == 1 }, "the idle session is told QUIT at the reload")

        let report = await transport.deliver(UpstreamTransportTests.message())

        #expect(upstream.connectionCount == 2)
        #expect(Self.passwords(upstream) == ["old-key", "new-key"])
        // This upstream still only knows the old password, so the new one is refused: proof that the
        // pooled session, logged in with the old one, was not used.
        guard case .deferred(let reason)? = report.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(report)")
            return
        }
        #expect(reason.contains("535"), "\(reason)")
        #expect(upstream.messages.count == 1)
    }

    /// A new upstream and password: the next message goes there and logs in with the new password, not over
    /// the session still pooled with the old upstream.
    @Test func aNewUpstreamGetsTheNextMessageWithTheNewCredentials() async throws {
        let old = try FakeUpstream(script: Self.script(password: "old-key"))
        defer { old.stop() }
        let new = try FakeUpstream(script: Self.script(password: "new-key"))
        defer { new.stop() }
        let transport = UpstreamTransport(
            configuration: Self.configuration(port: old.port, password: "old-key"), logger: UpstreamTransportTests.logger)
        #expect(Self.delivered(await transport.deliver(UpstreamTransportTests.message())))

        transport.reconfigure(configuration: Self.configuration(port: new.port, password: "new-key"))
        let report = await transport.deliver(UpstreamTransportTests.message())

        #expect(Self.delivered(report), "\(report)")
        #expect(report.relay == "127.0.0.1[127.0.0.1]:\(new.port)")
        #expect(new.messages.map(\.login) == [Self.username])
        #expect(old.messages.count == 1)
        #expect(old.connectionCount == 1)
        #expect(await eventually { Self.quits(old) == 1 }, "the old upstream's idle session was closed")
        #expect(transport.name == "upstream 127.0.0.1:\(new.port)")
        #expect(await transport.status()?.endpoint == "127.0.0.1:\(new.port)")
    }

    /// The operator fixes a password the upstream refused: the suspension that followed the refusal does not
    /// make the fixed configuration wait.
    @Test func anUpstreamSuspendedForRefusingTheOldPasswordIsTriedAtOnceWithTheNewOne() async throws {
        let upstream = try FakeUpstream(script: Self.script(password: "new-key"))
        defer { upstream.stop() }
        let transport = UpstreamTransport(
            configuration: Self.configuration(port: upstream.port, password: "old-key"), logger: UpstreamTransportTests.logger)
        _ = await transport.deliver(UpstreamTransportTests.message())
        let suspended = await transport.deliver(UpstreamTransportTests.message())
        guard case .deferred(let reason)? = suspended.outcomes["bob@example.net"] else {
            Issue.record("expected a deferral, got \(suspended)")
            return
        }
        #expect(reason.hasPrefix("delivery temporarily suspended:"), "\(reason)")
        #expect(upstream.connectionCount == 1)
        #expect(await transport.status()?.reachable == false)

        transport.reconfigure(configuration: Self.configuration(port: upstream.port, password: "new-key"))
        let report = await transport.deliver(UpstreamTransportTests.message())

        #expect(Self.delivered(report), "\(report)")
        #expect(upstream.connectionCount == 2)
        #expect(upstream.messages.map(\.login) == [Self.username])
        #expect(await transport.status()?.reachable == true)
    }

    /// Health belongs to the configuration: even an unchanged one starts with every endpoint untried.
    @Test func aReloadEndsTheSuspensionOfAnUnchangedEndpoint() async throws {
        let port = try FakeUpstream.closedPort()
        let transport = UpstreamTransport(configuration: Self.configuration(port: port), logger: UpstreamTransportTests.logger)
        _ = await transport.deliver(UpstreamTransportTests.message())
        let upstream = try FakeUpstream(script: .init(), port: port)
        defer { upstream.stop() }
        #expect(!Self.delivered(await transport.deliver(UpstreamTransportTests.message())), "still suspended")
        #expect(upstream.connectionCount == 0)

        transport.reconfigure(configuration: Self.configuration(port: port))
        let report = await transport.deliver(UpstreamTransportTests.message())

        #expect(Self.delivered(report), "\(report)")
        #expect(upstream.connectionCount == 1)
    }

    @Test func fallbacksAreReplacedToo() async throws {
        let down = try FakeUpstream.closedPort()
        let fallback = try FakeUpstream(script: .init())
        defer { fallback.stop() }
        let transport = UpstreamTransport(configuration: Self.configuration(port: down), logger: UpstreamTransportTests.logger)
        #expect(transport.name == "upstream 127.0.0.1:\(down)")

        transport.reconfigure(configuration: Self.configuration(port: down), fallbacks: [Self.configuration(port: fallback.port)])
        let report = await transport.deliver(UpstreamTransportTests.message())

        #expect(transport.name == "upstream 127.0.0.1:\(down) (+1 fallback)")
        #expect(Self.delivered(report), "\(report)")
        #expect(report.relay == "127.0.0.1[127.0.0.1]:\(fallback.port)")
    }

    /// A session busy with a message during the reload finishes that message, then is closed instead of
    /// going back to the pool; the next message opens a session with the new settings (here its EHLO name),
    /// which is pooled and reused as before.
    @Test func aSessionBusyDuringTheReloadIsClosedAfterItsMessage() async throws {
        let gate = Gate()
        let upstream = try HoldingUpstream(gate: gate)
        defer { upstream.stop() }
        let transport = UpstreamTransport(configuration: Self.configuration(port: upstream.port), logger: UpstreamTransportTests.logger)
        let first = Task { await transport.deliver(UpstreamTransportTests.message()) }
        #expect(await eventually { upstream.record.messages == 1 }, "the message is in, its reply held back")

        transport.reconfigure(configuration: Self.configuration(port: upstream.port, heloName: "reloaded.test"))
        gate.open()
        #expect(Self.delivered(await first.value), "the message in flight completes")
        #expect(await eventually { upstream.record.quits == 1 }, "and its session is closed, not pooled")

        #expect(Self.delivered(await transport.deliver(UpstreamTransportTests.message())))
        #expect(Self.delivered(await transport.deliver(UpstreamTransportTests.message())))

        #expect(upstream.record.connections == 2, "one new session for both later messages")
        #expect(upstream.record.greetings == ["EHLO relay.test", "EHLO reloaded.test"])
        #expect(upstream.record.messages == 3)
    }
}

/// An SMTP server on loopback that holds its reply to each message's final dot until `gate` opens: for a
/// session that is busy while something else happens. No PIPELINING, no AUTH, no TLS.
final class HoldingUpstream: Sendable {
    struct Record: Sendable {
        var connections = 0
        var greetings: [String] = []
        var messages = 0
        var quits = 0
    }

    let port: UInt16
    private let gate: Gate
    private let listener: TCPListener
    private let state = Locked(Record())
    private let live = Locked<[ObjectIdentifier: TCPConnection]>([:])

    var record: Record { state.withLock { $0 } }

    init(gate: Gate) throws {
        self.gate = gate
        listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        port = listener.address.port
        Task { [self] in
            while let connection = try? await listener.accept() {
                state.withLock { $0.connections += 1 }
                live.withLock { $0[ObjectIdentifier(connection)] = connection }
                Task { await self.serve(connection) }
            }
        }
    }

    func stop() {
        listener.close()
        for connection in live.withLock({ Array($0.values) }) { connection.interruptReads() }
    }

    private func serve(_ connection: TCPConnection) async {
        defer {
            live.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(connection)) }
            connection.close()
        }
        var buffer: [UInt8] = []
        func reply(_ text: String) async throws {
            try await connection.write(Array((text + "\r\n").utf8), deadline: .now + .seconds(10))
        }
        func readLine() async throws -> String? {
            while true {
                if let lf = buffer.firstIndex(of: 10) {
                    let line = String(decoding: buffer[..<lf], as: UTF8.self)
                    buffer.removeFirst(lf + 1)
                    return line.hasSuffix("\r") ? String(line.dropLast()) : line
                }
                guard try await connection.read(into: &buffer, deadline: .now + .seconds(30)) > 0 else { return nil }
            }
        }
        do {
            try await reply("220 holding.test ESMTP")
            while let line = try await readLine() {
                switch line.prefix(4).uppercased() {
                case "EHLO":
                    state.withLock { $0.greetings.append(line) }
                    try await reply("250-holding.test\r\n250 8BITMIME")
                case "DATA":
                    try await reply("354 End data with <CR><LF>.<CR><LF>")
                    while let body = try await readLine(), body != "." {}
                    state.withLock { $0.messages += 1 }
                    await gate.pass()
                    try await reply("250 2.0.0 Ok: queued")
                case "QUIT":
                    state.withLock { $0.quits += 1 }
                    try await reply("221 2.0.0 Bye")
                    return
                default:
                    try await reply("250 2.0.0 Ok")
                }
            }
        } catch {
            return
        }
    }
}

@testable import Delivery
import Foundation
import RelayTesting
import Testing

/// The upstream's health as `relayctl stats` shows it.
@Suite("Upstream status")
struct UpstreamStatusTests {
    @Test func healthKeepsTheLastFailureUntilASuccess() {
        var health = UpstreamHealth()
        #expect(health.reachable)
        let now = ContinuousClock.now
        health.recordFailure("connect to 192.0.2.7:587: connection refused", at: now, timestamp: 1_700_000_000)
        #expect(!health.reachable)
        #expect(health.lastFailure == "connect to 192.0.2.7:587: connection refused")
        #expect(health.lastFailureAt == 1_700_000_000)
        health.recordFailure("TLS with mx[192.0.2.7]:587: handshake failed", at: now + .seconds(10), timestamp: 1_700_000_010)
        #expect(health.lastFailure == "TLS with mx[192.0.2.7]:587: handshake failed")
        #expect(health.lastFailureAt == 1_700_000_010)
        health.recordSuccess()
        #expect(health.reachable)
        #expect(health.lastFailure == nil)
        #expect(health.lastFailureAt == nil)
    }

    @Test func aFailedConnectionMakesThePrimaryUnreachable() async throws {
        let port = try FakeUpstream.closedPort()
        let transport = UpstreamTransport(
            configuration: UpstreamTransportTests.plain(port: port), logger: UpstreamTransportTests.logger)
        let fresh = UpstreamStatus(endpoint: "127.0.0.1:\(port)", reachable: true, lastError: nil, lastErrorAt: nil)
        #expect(await transport.status() == fresh, "nothing tried yet")

        let before = Date().timeIntervalSince1970
        _ = await transport.deliver(UpstreamTransportTests.message())

        let status = try #require(await transport.status())
        #expect(status.endpoint == "127.0.0.1:\(port)")
        #expect(!status.reachable)
        #expect(status.lastError?.contains("connect to 127.0.0.1:\(port)") == true, "\(status)")
        let at = try #require(status.lastErrorAt)
        #expect(at >= before - 1 && at <= Date().timeIntervalSince1970 + 1)
    }

    @Test func theOutboxHasNoUpstream() async throws {
        try await withTemporaryDirectory { dir in
            let outbox = try OutboxTransport(directory: dir.appending("outbox"))
            #expect(await outbox.status() == nil)
        }
    }
}

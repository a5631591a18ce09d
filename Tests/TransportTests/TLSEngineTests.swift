import RelayTesting
import Testing

@testable import Transport

/// TLSEngine driven engine-to-engine: ciphertext is carried between two engines in memory, no sockets.
@Suite("TLSEngine without sockets")
struct TLSEngineTests {
    @Test func handshakeThenDataBothWaysThenCloseNotify() throws {
        let ca = try TestCertificateAuthority()
        let server = try TLSEngine(context: ca.serverContext(names: ["mx.example.test"]), role: .server)
        let client = try TLSEngine(context: ca.clientContext(), role: .client(serverName: "mx.example.test"))
        var pair = EnginePair(client: client, server: server)

        #expect(try pair.handshake() == nil)
        #expect(client.protocolVersion == "TLSv1.3")
        #expect(server.protocolVersion == "TLSv1.3")
        #expect(client.cipher == server.cipher)
        #expect(client.cipher.hasPrefix("TLS_"))
        #expect(server.requestedServerName == "mx.example.test", "the client sends SNI")

        // Several records each way, through buffers that hold one record: the writer must meet WANT_WRITE
        // (and retry with the same bytes) and the reader WANT_READ, or the transfer is not what we think.
        let upward = testPattern(count: 300_000, seed: 1)
        let up = try pair.transfer(upward, clientToServer: true)
        #expect(up.received == upward)
        #expect(up.writerWaitedForOutput > 0)
        #expect(up.readerWaitedForInput > 0)

        let downward = testPattern(count: 200_000, seed: 2)
        let down = try pair.transfer(downward, clientToServer: false)
        #expect(down.received == downward)

        client.shutdown()
        client.shutdown()  // twice is fine
        pair.carry()
        guard case .closed = server.read(maxBytes: 100, { _ in }) else {
            Issue.record("close_notify must read as a clean end of stream")
            return
        }
    }

    @Test func anIPLiteralIsCheckedAgainstIPAddressesAndSentWithoutSNI() throws {
        let ca = try TestCertificateAuthority()
        let serverContext = try ca.serverContext(names: ["localhost", "127.0.0.1", "::1"])
        for literal in ["127.0.0.1", "::1", "[::1]"] {
            var pair = try EnginePair(
                client: TLSEngine(context: ca.clientContext(), role: .client(serverName: literal)),
                server: TLSEngine(context: serverContext, role: .server))
            #expect(try pair.handshake() == nil, "\(literal)")
            #expect(pair.server.requestedServerName == nil, "SNI never carries an IP address (\(literal))")
        }
        var wrong = try EnginePair(
            client: TLSEngine(context: ca.clientContext(), role: .client(serverName: "127.0.0.2")),
            server: TLSEngine(context: serverContext, role: .server))
        #expect(try wrong.handshake() == .certificateNotVerified("IP address mismatch"))
    }

    @Test func aPeerLimitedToTLS11IsRefused() throws {
        let ca = try TestCertificateAuthority()
        let files = try ca.issue(names: ["localhost"])
        let tls11 = TLSContext.Versions(minimum: 0x0302, maximum: 0x0302, allowsLegacy: true)  // TLS1_1_VERSION
        let oldServer = try TLSContext.server(
            certificateChainFile: files.certificateChainFile, privateKeyFile: files.privateKeyFile, versions: tls11)

        // Control: the old server really speaks TLS 1.1, so the refusal below is ours.
        let oldClientContext = try TLSContext.client(caFile: nil, verifyCertificate: false, versions: tls11)
        var old = try EnginePair(
            client: TLSEngine(context: oldClientContext, role: .client(serverName: "localhost")),
            server: TLSEngine(context: oldServer, role: .server))
        #expect(try old.handshake() == nil)
        #expect(old.client.protocolVersion == "TLSv1.1")

        var refused = try EnginePair(
            client: TLSEngine(context: ca.clientContext(), role: .client(serverName: "localhost")),
            server: TLSEngine(context: oldServer, role: .server))
        let failure = try refused.handshake()
        guard case .handshakeFailed(let reason) = failure else {
            Issue.record("expected handshakeFailed, got \(String(describing: failure))")
            return
        }
        #expect(reason.contains("protocol"), "OpenSSL names the version problem: \(reason)")
    }
}

#if canImport(Glibc)
import Glibc
#endif
import RelayTesting
import Testing
import Transport

/// TLSConnection over real loopback sockets: TCPListener on one end, TCPConnection.connect on the other.
/// Deadlines of ten seconds are guards against hangs, not latency checks.
@Suite("TLSConnection over loopback")
struct TLSConnectionTests {
    @Test func handshakeAndOneMebibyteEachWay() async throws {
        let ca = try TestCertificateAuthority()
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let serving = serveTLS(on: listener, context: try ca.serverContext(names: ["localhost"]))
        let client = try await connectTLS(to: listener, context: try ca.clientContext(), serverName: "localhost")
        let server = try await serving.value
        defer { client.close(); server.close() }

        #expect(client.protocolVersion == "TLSv1.3")
        #expect(!client.cipher.isEmpty && client.cipher == server.cipher)
        #expect(server.requestedServerName == "localhost")
        #expect(client.peer.port == listener.address.port)
        #expect(server.peer == client.local)

        // Far more than the socket and engine buffers hold: both ends wait for output and for input.
        let upward = testPattern(count: 1 << 20, seed: 3)
        async let sent: Void = client.write(upward, deadline: .now + .seconds(30))
        let receivedUp = try await readExactly(server, count: upward.count)
        try await sent
        #expect(receivedUp == upward)

        let downward = testPattern(count: 1 << 20, seed: 4)
        async let sentBack: Void = server.write(downward, deadline: .now + .seconds(30))
        let receivedDown = try await readExactly(client, count: downward.count)
        try await sentBack
        #expect(receivedDown == downward)
    }

    @Test func closeNotifyReadsAsEndOfStreamButAnAbruptCloseThrows() async throws {
        let ca = try TestCertificateAuthority()
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let serverContext = try ca.serverContext(names: ["localhost"])

        let serving = serveTLS(on: listener, context: serverContext)
        let client = try await connectTLS(to: listener, context: try ca.clientContext(), serverName: "localhost")
        let server = try await serving.value
        try await client.write(Array("QUIT\r\n".utf8), deadline: .now + .seconds(30))
        client.close()
        client.close()  // twice is fine
        #expect(try await readExactly(server, count: 6) == Array("QUIT\r\n".utf8))
        #expect(try await server.read(maxBytes: 100, deadline: .now + .seconds(30)) { _ in } == 0)
        server.close()

        // The same, but the TCP connection goes away without close_notify: possibly truncated, so an error.
        let servingAgain = serveTLS(on: listener, context: serverContext)
        let tcp = try await TCPConnection.connect(host: "127.0.0.1", port: listener.address.port, deadline: .now + .seconds(30))
        let abrupt = try await TLSConnection.connect(
            over: tcp, context: try ca.clientContext(), serverName: "localhost", deadline: .now + .seconds(30))
        let serverAgain = try await servingAgain.value
        defer { serverAgain.close() }
        tcp.close()
        await #expect(throws: TLSError.closed) {
            _ = try await serverAgain.read(maxBytes: 100, deadline: .now + .seconds(30)) { _ in }
        }
        withExtendedLifetime(abrupt) {}
    }

    @Test func aCertificateForAnotherNameIsRefused() async throws {
        let ca = try TestCertificateAuthority()
        let failure = try await handshakeFailure(
            serverContext: try ca.serverContext(names: ["localhost"]), clientContext: try ca.clientContext(),
            serverName: "mail.example.com")
        #expect(failure == .certificateNotVerified("hostname mismatch"))
    }

    @Test func anIPLiteralMustBeInTheCertificate() async throws {
        let ca = try TestCertificateAuthority()
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let serving = serveTLS(on: listener, context: try ca.serverContext(names: ["localhost", "127.0.0.1"]))
        let client = try await connectTLS(to: listener, context: try ca.clientContext(), serverName: "127.0.0.1")
        let server = try await serving.value
        #expect(server.requestedServerName == nil, "no SNI for an IP address")
        client.close()
        server.close()

        let failure = try await handshakeFailure(
            serverContext: try ca.serverContext(names: ["localhost"]), clientContext: try ca.clientContext(),
            serverName: "127.0.0.1")
        #expect(failure == .certificateNotVerified("IP address mismatch"))
    }

    @Test func aCertificateFromAnUnknownCAIsRefusedByTheSystemTrustStore() async throws {
        let ca = try TestCertificateAuthority()
        let failure = try await handshakeFailure(
            serverContext: try ca.serverContext(names: ["localhost"]),
            clientContext: try TLSContext.client(caFile: nil, verifyCertificate: true), serverName: "localhost")
        #expect(failure == .certificateNotVerified("unable to get local issuer certificate"))
    }

    @Test func aSelfSignedCertificateIsRefusedWhenVerifyingAndAcceptedWhenNot() async throws {
        let ca = try TestCertificateAuthority()
        let files = try ca.selfSigned(names: ["localhost"])
        let serverContext = try TLSContext.server(
            certificateChainFile: files.certificateChainFile, privateKeyFile: files.privateKeyFile)

        let failure = try await handshakeFailure(
            serverContext: serverContext, clientContext: try ca.clientContext(), serverName: "localhost")
        #expect(failure == .certificateNotVerified("self-signed certificate"))

        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let serving = serveTLS(on: listener, context: serverContext)
        let trusting = try TLSContext.client(caFile: nil, verifyCertificate: false)
        // Neither the issuer nor the name is checked: "wrong.example" would fail if it were.
        let client = try await connectTLS(to: listener, context: trusting, serverName: "wrong.example")
        let server = try await serving.value
        try await client.write([1, 2, 3], deadline: .now + .seconds(30))
        #expect(try await readExactly(server, count: 3) == [1, 2, 3])
        client.close()
        server.close()
    }

    @Test(arguments: [PlaintextPeer.sendsAGreeting, .closes])
    func aPlaintextServerFailsTheHandshakeQuickly(peer: PlaintextPeer) async throws {
        let ca = try TestCertificateAuthority()
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let serving = Task {
            let connection = try await listener.accept()
            var hello: [UInt8] = []
            _ = try await connection.read(into: &hello, deadline: .now + .seconds(30))  // the ClientHello
            if peer == .sendsAGreeting {
                try await connection.write(Array("220 plain.example ESMTP ready\r\n".utf8), deadline: .now + .seconds(30))
            }
            connection.close()
        }
        let tcp = try await TCPConnection.connect(host: "127.0.0.1", port: listener.address.port, deadline: .now + .seconds(60))
        let failure = await #expect(throws: TLSError.self) {
            _ = try await TLSConnection.connect(
                over: tcp, context: try ca.clientContext(), serverName: "localhost", deadline: .now + .seconds(60))
        }
        guard case .handshakeFailed(let reason) = failure else {
            Issue.record("expected handshakeFailed, got \(String(describing: failure))")
            return
        }
        // handshakeFailed rather than .transport(.timedOut): the failure came from the peer, not the deadline.
        #expect(!reason.isEmpty)
        #expect(!tcp.isOpen, "a failed handshake closes the TCP connection")
        try await serving.value
    }

    @Test func aStalledServerRunsIntoTheDeadline() async throws {
        let ca = try TestCertificateAuthority()
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let silent = Task { try await listener.accept() }  // accepts, then says nothing
        let tcp = try await TCPConnection.connect(host: "127.0.0.1", port: listener.address.port, deadline: .now + .seconds(30))
        let started = ContinuousClock.now
        await #expect(throws: TLSError.transport(.timedOut)) {
            _ = try await TLSConnection.connect(
                over: tcp, context: try ca.clientContext(), serverName: "localhost", deadline: .now + .milliseconds(300))
        }
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        try await silent.value.close()
    }

    @Test func unreadableFilesAreConfigurationErrors() throws {
        let ca = try TestCertificateAuthority()
        let files = try ca.issue(names: ["localhost"])
        let other = try ca.issue(names: ["localhost"])
        #expect(throws: TLSError.self) { _ = try TLSContext.client(caFile: "/nonexistent/ca.pem", verifyCertificate: true) }
        for (chain, key) in [
            ("/nonexistent/cert.pem", files.privateKeyFile),
            (files.certificateChainFile, "/nonexistent/key.pem"),
            (files.certificateChainFile, other.privateKeyFile),  // a key that does not match
        ] {
            let error = #expect(throws: TLSError.self) {
                _ = try TLSContext.server(certificateChainFile: chain, privateKeyFile: key)
            }
            guard case .configuration = error else {
                Issue.record("expected a configuration error, got \(String(describing: error))")
                continue
            }
        }
    }
}

/// How the plaintext server in `aPlaintextServerFailsTheHandshakeQuickly` answers a ClientHello.
enum PlaintextPeer: Sendable, CustomTestStringConvertible {
    case sendsAGreeting, closes
    var testDescription: String { self == .sendsAGreeting ? "sends an SMTP greeting" : "closes" }
}

/// Accepts one client on `listener` and runs the server handshake in a task of its own.
func serveTLS(on listener: TCPListener, context: TLSContext) -> Task<TLSConnection, any Error> {
    Task {
        let connection = try await listener.accept()
        return try await TLSConnection.accept(over: connection, context: context, deadline: .now + .seconds(30))
    }
}

/// Connects to `listener` by name ("localhost") and runs the client handshake.
func connectTLS(to listener: TCPListener, context: TLSContext, serverName: String) async throws -> TLSConnection {
    let tcp = try await TCPConnection.connect(host: "localhost", port: listener.address.port, deadline: .now + .seconds(30))
    return try await TLSConnection.connect(over: tcp, context: context, serverName: serverName, deadline: .now + .seconds(30))
}

/// The client's TLSError from one handshake against a server with `serverContext`.
func handshakeFailure(serverContext: TLSContext, clientContext: TLSContext, serverName: String) async throws -> TLSError? {
    let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
    defer { listener.close() }
    let serving = serveTLS(on: listener, context: serverContext)
    defer { serving.cancel() }
    do {
        let client = try await connectTLS(to: listener, context: clientContext, serverName: serverName)
        client.close()
        return nil
    } catch let error as TLSError {
        _ = try? await serving.value  // the server sees the client's alert and fails too
        return error
    }
}

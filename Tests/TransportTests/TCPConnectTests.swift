#if canImport(Glibc)
import Glibc
#endif
import Testing
import Transport

/// TCPConnection.connect: name resolution, the non-blocking connect and its errors, over loopback.
@Suite("TCPConnection.connect")
struct TCPConnectTests {
    @Test(arguments: [("localhost", "127.0.0.1"), ("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("[::1]", "::1")])
    func connectsByNameOrAddress(host: String, listenOn address: String) async throws {
        let listener = try TCPListener(address: ListenAddress(host: address, port: 0))
        defer { listener.close() }
        async let accepted = listener.accept()
        let client = try await TCPConnection.connect(host: host, port: listener.address.port, deadline: .now + .seconds(30))
        let server = try await accepted
        defer { client.close(); server.close() }

        #expect(client.peer.host == address)
        #expect(client.peer.port == listener.address.port)
        #expect(server.peer == client.local)
        try await client.write([42], deadline: .now + .seconds(30))
        #expect(try await readExactly(server, count: 1) == [42])
    }

    @Test func aClosedPortIsRefused() async throws {
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        let port = listener.address.port
        listener.close()
        await #expect(throws: TransportError.system(operation: "connect 127.0.0.1:\(port)", errno: ECONNREFUSED)) {
            _ = try await TCPConnection.connect(host: "127.0.0.1", port: port, deadline: .now + .seconds(30))
        }
    }

    @Test(arguments: ["nonexistent.invalid", ".invalid"])
    func anUnresolvableNameIsAResolutionError(host: String) async throws {
        let error = await #expect(throws: TransportError.self) {
            _ = try await TCPConnection.connect(host: host, port: 25, deadline: .now + .seconds(30))
        }
        guard case .resolution(let named, let reason) = error else {
            Issue.record("expected a resolution error, got \(String(describing: error))")
            return
        }
        #expect(named == host)
        #expect(!reason.isEmpty)
    }

    @Test func aDeadlineAlreadyPassedTimesOut() async throws {
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        await #expect(throws: TransportError.timedOut) {
            _ = try await TCPConnection.connect(host: "127.0.0.1", port: listener.address.port, deadline: .now - .seconds(1))
        }
    }
}

import Foundation
import RelayTesting
import Testing
import Transport

@Suite("TCPListener and TCPConnection over loopback")
struct TCPListenerTests {
    @Test(arguments: ["127.0.0.1", "::1"])
    func acceptReadWriteEcho(host: String) async throws {
        let listener = try TCPListener(address: ListenAddress(host: host, port: 0))
        defer { listener.close() }
        #expect(listener.address.host == host)
        #expect(listener.address.port != 0, "port 0 is resolved to the bound port")

        async let accepted = listener.accept()
        let client = try await BlockingSocket.connect(host: host, port: listener.address.port)
        let connection = try await accepted
        defer { connection.close() }

        #expect(connection.peer.host == host)
        #expect(connection.peer.port == client.localPort)
        #expect(connection.local.port == listener.address.port)
        #expect(connection.peer.bytes.count == (host == "::1" ? 16 : 4))

        let message = Array("EHLO client.example\r\n".utf8)
        try await client.send(message)
        var received: [UInt8] = []
        while received.count < message.count {
            let n = try await connection.read(into: &received, deadline: .now + .seconds(5))
            #expect(n > 0)
            if n == 0 { break }
        }
        #expect(received == message)
        try await connection.write(received, deadline: .now + .seconds(5))
        #expect(try await client.receive(count: message.count) == message)

        client.shutdownWrite()
        var rest: [UInt8] = []
        #expect(try await connection.read(into: &rest, deadline: .now + .seconds(5)) == 0, "end of stream reads 0")
    }

    @Test func largeWriteSuspendsUntilTheClientReads() async throws {
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        async let accepted = listener.accept()
        let client = try await BlockingSocket.connect(host: "127.0.0.1", port: listener.address.port)
        let connection = try await accepted
        defer { connection.close() }

        // Far more than the socket buffers hold, so the writer meets EAGAIN and waits for epoll.
        let payload = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        async let written: Void = connection.write(payload, deadline: .now + .seconds(60))
        let echoed = try await client.receive(count: payload.count)
        try await written
        #expect(echoed.count == payload.count)
        #expect(echoed == payload)
    }

    @Test func readDeadlineThrowsTimedOut() async throws {
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        async let accepted = listener.accept()
        let client = try await BlockingSocket.connect(host: "127.0.0.1", port: listener.address.port)
        let connection = try await accepted
        defer { connection.close() }

        let started = ContinuousClock.now
        // The read races a long sleep, so an ignored deadline fails the test instead of hanging it. The bound
        // is loose on purpose: on a loaded machine the test task itself can wait seconds for a thread.
        let outcome = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                var buffer: [UInt8] = []
                do { _ = try await connection.read(into: &buffer, deadline: .now + .milliseconds(300)) } catch {
                    return "\(error)"
                }
                return "read returned"
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(30))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let waited = ContinuousClock.now - started
        #expect(outcome == "\(TransportError.timedOut)", "deadlines are checked on a coarse tick, not ignored")
        #expect(waited >= .milliseconds(300))
        withExtendedLifetime(client) {}
    }

    @Test func closeMakesAPendingAcceptThrowClosed() async throws {
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        let pending = Task { try await listener.accept() }
        try await Task.sleep(for: .milliseconds(200))
        listener.close()
        await #expect(throws: TransportError.closed) { _ = try await pending.value }
        await #expect(throws: TransportError.closed) { _ = try await listener.accept() }
    }

    @Test func cancellingAPendingAcceptThrowsCancelled() async throws {
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let pending = Task { try await listener.accept() }
        try await Task.sleep(for: .milliseconds(200))
        pending.cancel()
        await #expect(throws: TransportError.cancelled) { _ = try await pending.value }
    }

    @Test func cancellingAPendingReadThrowsCancelled() async throws {
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        async let accepted = listener.accept()
        let client = try await BlockingSocket.connect(host: "127.0.0.1", port: listener.address.port)
        let connection = try await accepted
        defer { connection.close() }

        let pending = Task {
            var buffer: [UInt8] = []
            return try await connection.read(into: &buffer, deadline: nil)
        }
        try await Task.sleep(for: .milliseconds(200))
        pending.cancel()
        await #expect(throws: TransportError.cancelled) { _ = try await pending.value }

        // The connection still works after a cancelled read.
        try await client.send([42])
        var buffer: [UInt8] = []
        #expect(try await connection.read(into: &buffer, deadline: .now + .seconds(5)) == 1)
        #expect(buffer == [42])
    }

    @Test func closedConnectionRefusesIO() async throws {
        let listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        async let accepted = listener.accept()
        let client = try await BlockingSocket.connect(host: "127.0.0.1", port: listener.address.port)
        let connection = try await accepted
        connection.close()
        connection.close()  // twice is fine
        #expect(!connection.isOpen)
        await #expect(throws: TransportError.closed) {
            var buffer: [UInt8] = []
            _ = try await connection.read(into: &buffer, deadline: nil)
        }
        await #expect(throws: TransportError.closed) { try await connection.write([1], deadline: nil) }
        #expect(try await client.receive(count: 1) == [], "the client sees end of stream")
    }

    @Test func bindingAPortInUseFails() async throws {
        let first = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { first.close() }
        #expect(throws: TransportError.self) {
            _ = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: first.address.port))
        }
    }

    @Test func nonNumericListenAddressIsRefused() {
        #expect(throws: TransportError.resolution(host: "localhost", reason: "listen addresses must be numeric")) {
            _ = try TCPListener(address: ListenAddress(host: "localhost", port: 0))
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RelayTesting
import Testing
import Transport

@Suite("UnixListener")
struct UnixListenerTests {
    static func mode(_ path: String) -> mode_t {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        return info.st_mode
    }

    /// A socket file nobody listens on, as a daemon killed with SIGKILL leaves behind.
    static func plantStaleSocket(at path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        let bound = try UnixSocketAddress(path: path).withSockaddr { bind(fd, $0, $1) }
        #expect(bound == 0)
    }

    @Test func createsTheSocketWithMode0600AndItsDirectoryWith0700() throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("run/relay/control.sock")
        let listener = try UnixListener(path: path)
        defer { listener.close() }
        #expect(Self.mode(path) & S_IFMT == S_IFSOCK)
        #expect(Self.mode(path) & 0o7777 == 0o600)
        #expect(Self.mode(directory.appending("run/relay")) & 0o7777 == 0o700)
        #expect(Self.mode(directory.appending("run")) & 0o7777 == 0o700)
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.appending("run/relay"))
        #expect(left == ["control.sock"], "no temporary name is left behind")
    }

    @Test func echoRoundTrip() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("control.sock")
        let listener = try UnixListener(path: path)
        defer { listener.close() }
        async let accepted = listener.accept()
        let client = try await BlockingSocket.connect(unixPath: path)
        let connection = try await accepted
        defer { connection.close() }

        let message = Array("{\"v\":1,\"command\":\"stats\"}\n".utf8)
        try await client.send(message)
        var received: [UInt8] = []
        while received.count < message.count {
            let n = try await connection.read(into: &received, deadline: .now + .seconds(10))
            if n == 0 { break }
        }
        #expect(received == message)
        try await connection.write(received, deadline: .now + .seconds(10))
        #expect(try await client.receive(count: message.count) == message)
        client.shutdownWrite()
        var rest: [UInt8] = []
        #expect(try await connection.read(into: &rest, deadline: .now + .seconds(10)) == 0)
    }

    @Test func aStaleSocketIsReplaced() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("control.sock")
        try Self.plantStaleSocket(at: path)
        var before = stat()
        lstat(path, &before)

        let listener = try UnixListener(path: path)
        defer { listener.close() }
        var after = stat()
        lstat(path, &after)
        #expect(after.st_ino != before.st_ino, "a new socket took the path")
        #expect(Self.mode(path) & 0o7777 == 0o600)
        async let accepted = listener.accept()
        let client = try await BlockingSocket.connect(unixPath: path)
        _ = try await accepted
        client.close()
    }

    @Test func aLiveSocketIsNotTakenOver() throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("control.sock")
        let first = try UnixListener(path: path)
        defer { first.close() }
        #expect(throws: TransportError.socketInUse(path: path)) { try UnixListener(path: path) }
        #expect(Self.mode(path) & S_IFMT == S_IFSOCK, "the first listener's socket is still there")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["control.sock"])
        #expect("\(TransportError.socketInUse(path: path))" == "another process is already listening on \(path)")
    }

    @Test func aFileThatIsNotASocketIsLeftAlone() throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("control.sock")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: TransportError.notASocket(path: path)) { try UnixListener(path: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
    }

    @Test func aPathLongerThanSunPathIsRefused() throws {
        let path = "/tmp/" + String(repeating: "x", count: 103)
        #expect(path.utf8.count == 108)
        #expect(throws: TransportError.socketPathTooLong(path: path)) { try UnixListener(path: path) }
    }

    @Test func closeRemovesTheSocketFileButNotASuccessorsOne() throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("control.sock")
        let listener = try UnixListener(path: path)
        listener.close()
        #expect(Self.mode(path) == 0, "closed: the path is gone")
        listener.close()

        let old = try UnixListener(path: path)
        // Another process replaced the socket (say, after deleting ours by hand): closing must not remove it.
        unlink(path)
        try Self.plantStaleSocket(at: path)
        old.close()
        #expect(Self.mode(path) & S_IFMT == S_IFSOCK)
    }

    @Test func closeMakesAPendingAcceptThrowClosed() async throws {
        let directory = try TemporaryDirectory()
        let listener = try UnixListener(path: directory.appending("control.sock"))
        let pending = Task { try await listener.accept() }
        try await Task.sleep(for: .milliseconds(200))
        listener.close()
        await #expect(throws: TransportError.closed) { _ = try await pending.value }
    }
}

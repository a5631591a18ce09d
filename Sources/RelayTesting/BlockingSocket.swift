#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Transport

/// A plain blocking TCP client socket for talking to a server under test. Every call runs on a
/// dedicated thread (see `onDedicatedThread`), and reads give up after `timeout`, so a broken server
/// fails a test instead of hanging it.
///
/// The timeout is a guard against hangs, not a latency check, so it is generous: the test task and parts of
/// the system under test run on the test process's cooperative pool (two threads here), which CPU-bound
/// tests running in parallel can hold for seconds. With a 10 s guard, a debug build under load answered late
/// but correctly (seen: a 220 greeting after 7 s) and tests failed with EAGAIN.
public final class BlockingSocket: @unchecked Sendable {
    private let descriptor: Atomic<Int32>
    /// The descriptor, -1 once closed.
    public var fd: Int32 { descriptor.load(ordering: .acquiring) }

    private init(fd: Int32) { descriptor = Atomic(fd) }

    deinit { close() }

    /// Connects to a numeric `host` (IPv4 or IPv6) and `port`.
    public static func connect(host: String, port: UInt16, timeout: Duration = .seconds(60)) async throws -> BlockingSocket {
        try await onDedicatedThread {
            guard let address = SocketAddress(numericHost: host, port: port) else { throw POSIXError(.EINVAL) }
            return try connected(family: address.family, timeout: timeout) { fd in address.withSockaddr { Glibc.connect(fd, $0, $1) } }
        }
    }

    /// Connects to the Unix stream socket at `path`.
    public static func connect(unixPath path: String, timeout: Duration = .seconds(60)) async throws -> BlockingSocket {
        try await onDedicatedThread {
            let address = try UnixSocketAddress(path: path)
            return try connected(family: AF_UNIX, timeout: timeout) { fd in address.withSockaddr { Glibc.connect(fd, $0, $1) } }
        }
    }

    /// A new stream socket of `family`, connected by `connect` (its `connect(2)` result), every read and write
    /// bounded by `timeout`.
    private static func connected(family: Int32, timeout: Duration, _ connect: (Int32) -> Int32) throws -> BlockingSocket {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard connect(fd) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        return BlockingSocket(fd: fd)
    }

    /// The client's own port, which the server should report as the peer's.
    public var localPort: UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let family = Int32(storage.ss_family)
        return withUnsafeBytes(of: &storage) { raw in
            family == AF_INET6
                ? UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
                : UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
        }
    }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) async throws {
        let fd = self.fd
        try await onDedicatedThread {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                }
                offset += n
            }
        }
    }

    public func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    /// Receives what arrives next (up to `maxBytes`); empty at end of stream; throws EAGAIN on timeout.
    public func receive(maxBytes: Int = 64 * 1024) async throws -> [UInt8] {
        let fd = self.fd
        return try await onDedicatedThread {
            var buffer = [UInt8](repeating: 0, count: maxBytes)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, maxBytes, 0) }
                if n >= 0 { return Array(buffer[0..<n]) }
                if errno == EINTR { continue }
                if errno == ECONNRESET { return [] }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        }
    }

    /// Receives until the peer closes, or `limit` bytes.
    public func receiveToEnd(limit: Int = 64 << 20) async throws -> [UInt8] {
        var out: [UInt8] = []
        while out.count < limit {
            let chunk = try await receive()
            if chunk.isEmpty { break }
            out += chunk
        }
        return out
    }

    /// Receives exactly `count` bytes, or fewer if the peer closes first.
    public func receive(count: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        while out.count < count {
            let chunk = try await receive(maxBytes: count - out.count)
            if chunk.isEmpty { break }
            out += chunk
        }
        return out
    }

    /// Half-closes the sending side, so the peer reads end of stream.
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Closes the socket; safe to call twice.
    public func close() {
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        if fd >= 0 { Glibc.close(fd) }
    }
}

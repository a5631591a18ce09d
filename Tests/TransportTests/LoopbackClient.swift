#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A blocking POSIX client socket for poking at the listener. Each call runs on a thread of its own so it
/// never blocks the cooperative pool, and reads time out after a minute instead of hanging a test (a guard,
/// not a latency check: the server side runs on the cooperative pool, which parallel CPU-bound tests can
/// hold for seconds on this two-core machine).
/// (TransportTests cannot use RelayTesting, which depends on more than Transport.)
final class LoopbackClient: @unchecked Sendable {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Connects to `[::1]` or `127.0.0.1` (any numeric host) at `port`.
    static func connect(host: String = "127.0.0.1", port: UInt16) async throws -> LoopbackClient {
        try await onThread {
            let v6 = host.contains(":")
            let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var storage = sockaddr_storage()
            let length: Int
            if v6 {
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = port.bigEndian
                inet_pton(AF_INET6, host, &sin6.sin6_addr)
                withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: &sin6) { raw.copyMemory(from: $0) } }
                length = MemoryLayout<sockaddr_in6>.size
            } else {
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = port.bigEndian
                inet_pton(AF_INET, host, &sin.sin_addr)
                withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: &sin) { raw.copyMemory(from: $0) } }
                length = MemoryLayout<sockaddr_in>.size
            }
            let result = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(length)) }
            }
            guard result == 0 else {
                let code = errno
                close(fd)
                throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
            }
            var limit = timeval(tv_sec: 60, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            return LoopbackClient(fd: fd)
        }
    }

    deinit { close(fd) }

    /// The client's local port: what the server must report as its peer's port.
    var localPort: UInt16 {
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

    func send(_ bytes: [UInt8]) async throws {
        let fd = self.fd
        try await onThread {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                offset += n
            }
        }
    }

    /// Reads exactly `count` bytes, or fewer if the server closes first.
    func receive(count: Int) async throws -> [UInt8] {
        let fd = self.fd
        return try await onThread {
            var out = [UInt8](repeating: 0, count: count)
            var got = 0
            while got < count {
                let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
                if n == 0 { break }
                guard n > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                got += n
            }
            return Array(out[0..<got])
        }
    }

    /// Half-closes the sending side, so the server reads end of stream.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }
}

/// Runs blocking work on a dedicated thread and awaits its result.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

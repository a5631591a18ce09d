#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Synchronization

/// A listening TCP socket whose `accept()` suspends until a client arrives.
public final class TCPListener: @unchecked Sendable {
    public let address: ListenAddress
    /// Atomic because `close()` comes from the shutdown path while `accept()` runs in the serving task.
    private let descriptor: Atomic<Int32>
    private let loop: EventLoop

    /// Binds and listens on a numeric address (`0.0.0.0`, `::`, `127.0.0.1`); port 0 picks a free one.
    public init(address: ListenAddress, backlog: Int32 = 4096, loop: EventLoop = .shared) throws {
        guard let socketAddress = SocketAddress(numericHost: address.host, port: address.port) else {
            throw TransportError.resolution(host: address.host, reason: "listen addresses must be numeric")
        }
        let fd = socket(socketAddress.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError.lastError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if socketAddress.family == AF_INET6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = socketAddress.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0 else {
            let error = TransportError.lastError("bind \(address)")
            Glibc.close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = TransportError.lastError("listen \(address)")
            Glibc.close(fd)
            throw error
        }
        var actual = address
        if address.port == 0, let local = TCPListener.localAddress(fd) { actual.port = local.port }
        self.address = actual
        self.descriptor = Atomic(fd)
        self.loop = loop
    }

    deinit { close() }

    /// Waits for the next client. Throws `.cancelled` when the task is cancelled, `.closed` after `close()`.
    public func accept() async throws -> TCPConnection {
        var storage = sockaddr_storage()
        let client = try await AcceptLoop.next(descriptor: { descriptor.load(ordering: .acquiring) }, loop: loop, name: "accept") { fd in
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            return withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    mr_accept4(fd, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
        }
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let peer = PeerAddress(storage) ?? PeerAddress(bytes: [0, 0, 0, 0], port: 0)
        let local = TCPListener.localAddress(client) ?? PeerAddress(bytes: [0, 0, 0, 0], port: 0)
        return TCPConnection(fd: client, peer: peer, local: local, loop: loop)
    }

    /// Stops listening; a pending `accept()` fails with `.closed`.
    public func close() {
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        guard fd >= 0 else { return }
        loop.release(fd)
        Glibc.close(fd)
    }

    static func localAddress(_ fd: Int32) -> PeerAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return ok == 0 ? PeerAddress(storage) : nil
    }
}

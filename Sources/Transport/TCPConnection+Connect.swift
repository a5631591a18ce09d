#if canImport(Glibc)
import Glibc
#endif

extension TCPConnection {
    /// Resolves `host` (a name, or a numeric IPv4/IPv6 address; names are looked up on a thread of their own,
    /// never on the cooperative pool or the epoll thread), then tries each address in order with a
    /// non-blocking connect until one connects or the deadline passes. Sets TCP_NODELAY.
    ///
    /// Each address gets an equal share of the time left (the last one all of it), so one black-holed
    /// address, say an IPv6 route that drops packets, cannot use up the whole deadline.
    /// Errors: `TransportError.resolution`, `.timedOut`, `.cancelled`, or
    /// `.system(operation: "connect <ip>:<port>", errno:)` for the last address tried.
    public static func connect(
        host: String, port: UInt16, deadline: ContinuousClock.Instant, loop: EventLoop = .shared
    ) async throws -> TCPConnection {
        let addresses = try await NameResolver.resolve(host: host, port: port, deadline: deadline)
        var lastError = TransportError.timedOut
        for (index, address) in addresses.enumerated() {
            let now = ContinuousClock.now
            guard now < deadline else { throw TransportError.timedOut }
            let attemptDeadline = now + (deadline - now) / (addresses.count - index)
            do throws(TransportError) {
                return try await attempt(address, deadline: attemptDeadline, loop: loop)
            } catch .cancelled {
                throw TransportError.cancelled
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// One non-blocking connect: EINPROGRESS → wait until writable → SO_ERROR says how it went.
    private static func attempt(
        _ address: SocketAddress, deadline: ContinuousClock.Instant, loop: EventLoop
    ) async throws(TransportError) -> TCPConnection {
        let peer = PeerAddress(address.storage) ?? PeerAddress(bytes: [0, 0, 0, 0], port: 0)
        let operation = "connect \(peer)"
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(address.family, type, 0)
        guard fd >= 0 else { throw TransportError.lastError("socket") }
        do throws(TransportError) {
            let result = address.withSockaddr { Glibc.connect(fd, $0, $1) }
            if result != 0 {
                // EINTR: a non-blocking connect carries on in the background, as with EINPROGRESS.
                guard errno == EINPROGRESS || errno == EINTR else { throw TransportError.lastError(operation) }
                do {
                    try await loop.wait(for: .writable, on: fd, deadline: deadline)
                } catch {
                    throw error as? TransportError ?? .cancelled
                }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0 else {
                    throw TransportError.lastError("getsockopt SO_ERROR")
                }
                guard code == 0 else { throw TransportError.system(operation: operation, errno: code) }
            }
        } catch {
            loop.release(fd)
            Glibc.close(fd)
            throw error
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let local = TCPListener.localAddress(fd) ?? PeerAddress(bytes: [0, 0, 0, 0], port: 0)
        return TCPConnection(fd: fd, peer: peer, local: local, loop: loop)
    }
}

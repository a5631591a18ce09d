#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking TCP connection with async reads and writes that suspend on EAGAIN.
///
/// Owned by one task at a time (the session that drives it), which is why it is `@unchecked Sendable`:
/// it moves from the accepting task to the session task and is never shared.
public final class TCPConnection: @unchecked Sendable {
    public let peer: PeerAddress
    public let local: PeerAddress
    private var fd: Int32
    /// The descriptor number as opened and the loop's token for it, for `interruptReads` from other threads
    /// (`fd` is the owner's).
    private let descriptor: Int32
    private let token: UInt64
    private let loop: EventLoop

    init(fd: Int32, peer: PeerAddress, local: PeerAddress, loop: EventLoop) {
        self.fd = fd
        self.descriptor = fd
        self.token = loop.open(fd)
        self.peer = peer
        self.local = local
        self.loop = loop
    }

    deinit { close() }

    public var isOpen: Bool { fd >= 0 }

    /// Reads what is available (at most `maxBytes`) and appends it to `buffer`. Returns 0 at end of stream.
    public func read(
        into buffer: inout some RangeReplaceableCollection<UInt8>, maxBytes: Int = 16 * 1024,
        deadline: ContinuousClock.Instant?
    ) async throws -> Int {
        try await read(maxBytes: maxBytes, deadline: deadline) { buffer.append(contentsOf: $0) }
    }

    /// Reads what is available (at most `maxBytes`) and hands it to `consume` without copying.
    /// Returns the byte count, 0 at end of stream.
    public func read(
        maxBytes: Int = 16 * 1024, deadline: ContinuousClock.Instant?,
        _ consume: (UnsafeBufferPointer<UInt8>) -> Void
    ) async throws -> Int {
        while true {
            guard fd >= 0 else { throw TransportError.closed }
            let n = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxBytes) { scratch -> Int in
                let n = Glibc.read(fd, scratch.baseAddress, maxBytes)
                if n > 0 { consume(UnsafeBufferPointer(rebasing: scratch[0..<n])) }
                return n
            }
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try await loop.wait(for: .readable, on: fd, deadline: deadline)
            case ECONNRESET: return 0
            default: throw TransportError.lastError("read")
            }
        }
    }

    /// Writes all of `bytes`, suspending while the socket buffer is full.
    public func write(_ bytes: some Collection<UInt8>, deadline: ContinuousClock.Instant?) async throws {
        try await write(Array(bytes), deadline: deadline)
    }

    /// Writes all of `bytes`, suspending while the socket buffer is full (`ByteStream`'s form: no copy).
    public func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant?) async throws {
        var offset = 0
        while offset < bytes.count {
            guard fd >= 0 else { throw TransportError.closed }
            let n = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n >= 0 {
                offset += n
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: try await loop.wait(for: .writable, on: fd, deadline: deadline)
            default: throw TransportError.lastError("send")
            }
        }
    }

    /// Best-effort write that never waits: for the 421 sent to a client refused at accept.
    public func writeWithoutWaiting(_ bytes: [UInt8]) {
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
    }

    /// Makes the current and every later read fail with `TransportError.cancelled`. May be called from any
    /// thread, even while the owner closes the connection: once closed, it does nothing.
    public func interruptReads() {
        loop.interruptReads(on: descriptor, owner: token)
    }

    /// Half-closes the sending side: the peer reads end of stream while this side can still read (an HTTP
    /// server's lingering close, so a client still sending does not get a reset that loses the response).
    public func shutdownWrite() {
        guard fd >= 0 else { return }
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes the socket; safe to call twice.
    public func close() {
        guard fd >= 0 else { return }
        loop.release(fd)
        Glibc.close(fd)
        fd = -1
    }
}

/// Plain TCP is the `ByteStream` an SMTP session starts on.
extension TCPConnection: ByteStream {}

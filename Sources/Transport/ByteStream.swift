/// Reads and writes the bytes of one connection, plain TCP or TLS, so SMTP sessions need not care which.
///
/// Implementations are owned by one task at a time: a read and a write must not run concurrently.
public protocol ByteStream: AnyObject, Sendable {
    /// The remote end's address.
    var peer: PeerAddress { get }
    /// Reads what is available (at most maxBytes), hands it to consume, returns the count; 0 = end of stream.
    func read(
        maxBytes: Int, deadline: ContinuousClock.Instant?, _ consume: (UnsafeBufferPointer<UInt8>) -> Void
    ) async throws -> Int
    /// Writes all bytes (suspending while the socket is full).
    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant?) async throws
    /// Closes; safe twice. For TLS, best-effort close_notify without waiting.
    func close()
}

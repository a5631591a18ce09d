/// A listening socket that hands out connections: `TCPListener` and `UnixListener`.
public protocol ConnectionListener: Sendable {
    /// The next connection; throws once the listener is closed.
    func accept() async throws -> TCPConnection
}

extension TCPListener: ConnectionListener {}
extension UnixListener: ConnectionListener {}

extension ConnectionListener {
    /// The accepted connections, in a `for await` loop that ends when the listener is closed (or accepting
    /// fails for good): every server's accept loop.
    public var connections: AcceptedConnections<Self> { AcceptedConnections(listener: self) }
}

/// The connections a listener accepts, until it is closed.
public struct AcceptedConnections<Listener: ConnectionListener>: AsyncSequence, Sendable {
    let listener: Listener

    public struct AsyncIterator: AsyncIteratorProtocol {
        let listener: Listener
        var ended = false

        public mutating func next() async -> TCPConnection? {
            guard !ended else { return nil }
            do { return try await listener.accept() } catch {
                ended = true
                return nil
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(listener: listener) }
}

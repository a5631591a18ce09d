/// A TLS session over a TCPConnection it owns.
///
/// It shuttles ciphertext between a `TLSEngine` and the non-blocking socket through TCPConnection's async
/// read and write, so TLS waits on the shared `EventLoop` exactly like plain TCP and never blocks a thread.
/// Like TCPConnection it is owned by one task at a time (the session driving it) and never used from two
/// at once, which is why it is `@unchecked Sendable`; the engine inside is not thread-safe.
public final class TLSConnection: ByteStream, @unchecked Sendable {
    private let connection: TCPConnection
    private let engine: TLSEngine
    /// Ciphertext on its way to the socket; reused, and never more than the engine's one-record buffer.
    private var outgoing: [UInt8] = []
    private var isClosed = false

    private init(connection: TCPConnection, engine: TLSEngine) {
        self.connection = connection
        self.engine = engine
    }

    deinit { close() }

    /// Client handshake. Sends SNI = `serverName` (not for an IP literal) and, when the context verifies,
    /// requires the certificate to name `serverName` (a DNS name, or an IP address SAN for an IP literal).
    /// Throws `TLSError`; on failure the TCP connection is closed, as its stream is no longer usable.
    public static func connect(
        over connection: TCPConnection, context: TLSContext, serverName: String, deadline: ContinuousClock.Instant?
    ) async throws -> TLSConnection {
        try await start(over: connection, context: context, role: .client(serverName: serverName), deadline: deadline)
    }

    /// Server handshake. Throws `TLSError`; on failure the TCP connection is closed.
    public static func accept(
        over connection: TCPConnection, context: TLSContext, deadline: ContinuousClock.Instant?
    ) async throws -> TLSConnection {
        try await start(over: connection, context: context, role: .server, deadline: deadline)
    }

    private static func start(
        over connection: TCPConnection, context: TLSContext, role: TLSEngine.Role, deadline: ContinuousClock.Instant?
    ) async throws(TLSError) -> TLSConnection {
        let engine: TLSEngine
        do {
            engine = try TLSEngine(context: context, role: role)
        } catch {
            connection.close()
            throw error
        }
        let tls = TLSConnection(connection: connection, engine: engine)
        do {
            try await tls.handshake(deadline: deadline)
        } catch {
            tls.close()
            throw error
        }
        return tls
    }

    private func handshake(deadline: ContinuousClock.Instant?) async throws(TLSError) {
        while true {
            let progress = engine.handshake()
            switch progress {
            case .done:
                try await flush(deadline: deadline)  // our last flight (the client's Finished, the server's tickets)
                return
            case .wantsInput:
                try await flush(deadline: deadline)
                guard try await receive(deadline: deadline) else {
                    throw .handshakeFailed("the peer closed the connection during the handshake")
                }
            case .wantsOutput:
                try await flush(deadline: deadline)
            case .closed:
                throw .handshakeFailed("the peer closed the session during the handshake")
            case .failed(let error):
                sendAlert()
                throw error
            }
        }
    }

    /// The peer's address.
    public var peer: PeerAddress { connection.peer }

    /// Our end's address.
    public var local: PeerAddress { connection.local }

    /// The negotiated protocol, e.g. "TLSv1.3", for log lines.
    public var protocolVersion: String { engine.protocolVersion }

    /// The negotiated cipher suite's name, e.g. "TLS_AES_256_GCM_SHA384", for log lines.
    public var cipher: String { engine.cipher }

    /// Server side: the host name the client asked for with SNI, if any.
    public var requestedServerName: String? { engine.requestedServerName }

    /// Reads the plaintext available (at most `maxBytes`, at most one record) and hands it to `consume`.
    /// Returns the count; 0 after the peer's close_notify. End of stream without close_notify throws
    /// `TLSError.closed`.
    public func read(
        maxBytes: Int, deadline: ContinuousClock.Instant?, _ consume: (UnsafeBufferPointer<UInt8>) -> Void
    ) async throws -> Int {
        precondition(maxBytes > 0, "read at least one byte")
        guard !isClosed else { throw TLSError.transport(.closed) }
        while true {
            switch engine.read(maxBytes: maxBytes, consume) {
            case .done(let count):
                return count
            case .closed:
                return 0
            case .wantsInput:
                // Anything the engine queued meanwhile (a TLS 1.3 KeyUpdate answer) goes out before we wait.
                try await flush(deadline: deadline)
                guard try await receive(deadline: deadline) else { throw TLSError.closed }
            case .wantsOutput:
                try await flush(deadline: deadline)
            case .failed(let error):
                sendAlert()
                throw error
            }
        }
    }

    /// Encrypts and sends all of `bytes`, suspending while the socket is full; returns once the last
    /// ciphertext byte has been handed to the kernel.
    public func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant?) async throws {
        guard !isClosed else { throw TLSError.transport(.closed) }
        var offset = 0
        while offset < bytes.count {
            let progress = bytes.withUnsafeBytes { engine.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            switch progress {
            case .done(let count):
                offset += count
            case .wantsOutput:
                // The next call passes the same bytes from the same offset, as OpenSSL requires.
                try await flush(deadline: deadline)
            case .wantsInput:
                // Only renegotiation makes SSL_write read, and the context disables it; should a peer manage
                // anyway, feeding input lets it finish (an engine too full to take any reads as end of stream).
                try await flush(deadline: deadline)
                guard try await receive(deadline: deadline) else { throw TLSError.closed }
            case .closed:
                throw TLSError.closed
            case .failed(let error):
                sendAlert()
                throw error
            }
        }
        try await flush(deadline: deadline)
    }

    /// Sends close_notify if the socket takes it at once (nothing waits for the peer's), then closes the
    /// TCP connection. Safe to call twice.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        engine.shutdown()
        sendAlert()
        connection.close()
    }

    /// Makes the current and every later read fail with `TLSError.transport(.cancelled)`; see
    /// `TCPConnection.interruptReads`.
    public func interruptReads() {
        connection.interruptReads()
    }

    // MARK: Moving ciphertext

    /// Sends all ciphertext the engine has queued.
    private func flush(deadline: ContinuousClock.Instant?) async throws(TLSError) {
        outgoing.removeAll(keepingCapacity: true)
        engine.takeOutput(into: &outgoing)
        guard !outgoing.isEmpty else { return }
        do {
            try await connection.write(outgoing, deadline: deadline)
        } catch {
            throw TLSError(underlying: error)
        }
    }

    /// Reads what the socket has (at most what the engine can take) into the engine; false at end of stream.
    private func receive(deadline: ContinuousClock.Instant?) async throws(TLSError) -> Bool {
        let engine = self.engine
        do {
            return try await connection.read(maxBytes: engine.inputCapacity, deadline: deadline) { ciphertext in
                let taken = engine.receive(ciphertext)
                assert(taken == ciphertext.count, "read no more than inputCapacity")
            } > 0
        } catch {
            throw TLSError(underlying: error)
        }
    }

    /// Best effort, never waits: a fatal alert or close_notify the engine queued.
    private func sendAlert() {
        outgoing.removeAll(keepingCapacity: true)
        engine.takeOutput(into: &outgoing)
        if !outgoing.isEmpty { connection.writeWithoutWaiting(outgoing) }
    }
}

extension TLSError {
    /// Wraps a socket failure; TCPConnection throws nothing but TransportError.
    init(underlying error: any Error) {
        switch error {
        case let error as TLSError: self = error
        case let error as TransportError: self = .transport(error)
        case is CancellationError: self = .transport(.cancelled)
        default: self = .transport(.closed)
        }
    }
}

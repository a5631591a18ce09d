import SMTPProtocol
import Transport

/// One connection to the upstream: performs what its `ClientSession` asks over plain TCP or TLS and feeds
/// it the replies. Owned by one delivery at a time (the transport's pool hands it over under a lock), which
/// is why it is `@unchecked Sendable`.
final class UpstreamSession: @unchecked Sendable {
    /// `host[ip]:port`, as Postfix writes relays in its log.
    let relay: String
    private var stream: any ByteStream
    private var session: ClientSession
    private var parser = SMTPReplyParser()
    private let configuration: UpstreamConfiguration
    /// Replies received since the current transaction started; none means the upstream never saw it.
    private(set) var repliesInTransaction = 0
    /// Ready for another transaction.
    private(set) var isUsable = false
    private(set) var idleSince = ContinuousClock.now
    /// TLS version and cipher once secured, for the log.
    private(set) var security: String = "plaintext"

    private init(relay: String, stream: any ByteStream, configuration: UpstreamConfiguration) {
        self.relay = relay
        self.stream = stream
        self.configuration = configuration
        self.session = ClientSession(configuration: configuration.session)
    }

    /// Connects, secures and authenticates as configured; returns a session ready for transactions.
    static func open(_ configuration: UpstreamConfiguration) async throws(UpstreamFailure) -> UpstreamSession {
        let deadline = ContinuousClock.now + configuration.connectTimeout
        let connection: TCPConnection
        do {
            connection = try await TCPConnection.connect(host: configuration.host, port: configuration.port, deadline: deadline, loop: configuration.loop)
        } catch {
            throw .connect(endpoint: configuration.endpoint, reason: "\(error)")
        }
        let host = connection.peer.host
        let relay = "\(configuration.host)[\(host)]:\(configuration.port)"
        let upstream = UpstreamSession(relay: relay, stream: connection, configuration: configuration)
        if configuration.security == .implicitTLS {
            try await upstream.secure(connection, deadline: deadline)
        }
        do {
            _ = try await upstream.drive(upstream.session.handle(.connected), body: nil)
        } catch {
            upstream.close()
            throw error
        }
        guard upstream.isUsable else {
            upstream.close()
            throw .lost(relay: relay, reason: "the upstream ended the session before it was ready")
        }
        return upstream
    }

    /// Runs one transaction; the session stays usable afterwards unless the upstream ended it.
    func deliver(_ transaction: ClientTransaction, stuffedBody: [UInt8]) async throws(UpstreamFailure) -> ClientTransactionResult {
        isUsable = false
        repliesInTransaction = 0
        defer { idleSince = .now }
        let result: ClientTransactionResult?
        do {
            result = try await drive(session.handle(.start(transaction)), body: stuffedBody)
        } catch {
            close()
            throw error
        }
        guard let result else {
            close()
            throw .lost(relay: relay, reason: "the session ended without a result")
        }
        return result
    }

    /// Says QUIT without waiting long for the answer, then closes.
    func quit() async {
        let deadline = ContinuousClock.now + .seconds(1)
        if isUsable {
            for case .send(let bytes) in session.handle(.quit) {
                try? await stream.write(bytes, deadline: deadline)
            }
        }
        close()
    }

    func close() {
        isUsable = false
        stream.close()
    }

    /// Performs `actions`, reading a reply whenever the session waits for one, until it is ready for the
    /// next transaction (returning the result of the one that ended, if any) or closes.
    private func drive(_ actions: [ClientSession.Action], body: [UInt8]?) async throws(UpstreamFailure) -> ClientTransactionResult? {
        var result: ClientTransactionResult?
        do {
            return try await drive(actions, body: body, result: &result)
        } catch {
            // Many servers hang up right after refusing a message; the refusal already received is the
            // outcome, and losing the RSET that follows must not turn a 5xx into a deferral.
            guard let result else { throw error }
            close()
            return result
        }
    }

    private func drive(
        _ actions: [ClientSession.Action], body: [UInt8]?, result: inout ClientTransactionResult?
    ) async throws(UpstreamFailure) -> ClientTransactionResult? {
        var pending = actions
        var next = 0
        while true {
            if next == pending.count {
                let reply = try await readReply()
                repliesInTransaction += 1
                pending = session.handle(.replyReceived(reply))
                next = 0
                continue
            }
            let action = pending[next]
            next += 1
            switch action {
            case .send(let bytes):
                try await write(bytes, timeout: configuration.commandTimeout)
            case .sendBody:
                guard let body else {
                    throw .lost(relay: relay, reason: "the upstream asked for a message outside a transaction")
                }
                try await write(body, timeout: configuration.dataTimeout)
            case .startTLS:
                // Anything the upstream sent after its 220 arrived in plaintext and could be an attacker's
                // injected reply (CVE-2011-0411 style); refuse rather than read it as if it were protected.
                guard parser.bufferedByteCount == 0 else { throw .session(relay: relay, .plaintextInjection) }
                guard let connection = stream as? TCPConnection else {
                    throw .lost(relay: relay, reason: "STARTTLS on a connection that is already secure")
                }
                try await secure(connection, deadline: .now + configuration.commandTimeout)
                parser = SMTPReplyParser()
                pending.append(contentsOf: session.handle(.tlsEstablished))
            case .ready:
                // Bytes beyond the last reply would be read as the answer to our next command.
                isUsable = parser.bufferedByteCount == 0
                if !isUsable { close() }
                return result
            case .completed(let completed):
                result = completed
            case .failed(let failure, _):
                // A transaction that completed before the failure (say RSET was refused) keeps its result.
                if let result {
                    close()
                    return result
                }
                throw .session(relay: relay, failure)
            case .close:
                close()
                return result
            }
        }
    }

    private func secure(_ connection: TCPConnection, deadline: ContinuousClock.Instant) async throws(UpstreamFailure) {
        guard let context = configuration.tlsContext else {
            connection.close()
            throw .tls(relay: relay, reason: "no TLS context configured")
        }
        do {
            let tls = try await TLSConnection.connect(
                over: connection, context: context, serverName: configuration.host, deadline: deadline)
            security = "\(tls.protocolVersion) \(tls.cipher)"
            stream = tls
        } catch {
            connection.close()
            throw .tls(relay: relay, reason: "\(error)")
        }
    }

    private func readReply() async throws(UpstreamFailure) -> SMTPReply {
        let timeout = session.awaitingDataReply ? configuration.dataTimeout : configuration.commandTimeout
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                if let reply = try parser.next() { return reply }
            } catch {
                // Not `\(error)`: the parser's description already starts "malformed reply from upstream".
                switch error {
                case .malformed(let why): throw .session(relay: relay, .malformedReply(why))
                }
            }
            let count: Int
            do {
                count = try await stream.read(maxBytes: 16 * 1024, deadline: deadline) { parser.append($0) }
            } catch TransportError.timedOut {
                throw .lost(relay: relay, reason: UpstreamFailure.noReplyWithin + "\(timeout) (waiting for \(session.awaitedReply))")
            } catch TLSError.transport(.timedOut) {
                throw .lost(relay: relay, reason: UpstreamFailure.noReplyWithin + "\(timeout) (waiting for \(session.awaitedReply))")
            } catch {
                throw .lost(relay: relay, reason: "\(error)")
            }
            if count == 0 { throw .lost(relay: relay, reason: "connection closed by the upstream") }
        }
    }

    private func write(_ bytes: [UInt8], timeout: Duration) async throws(UpstreamFailure) {
        do {
            try await stream.write(bytes, deadline: .now + timeout)
        } catch TransportError.timedOut {
            throw .lost(relay: relay, reason: UpstreamFailure.couldNotSendWithin + "\(timeout)")
        } catch {
            throw .lost(relay: relay, reason: "\(error)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Logging
import SMTPProtocol
import Spool
import Transport

/// Drives one client's `ServerSession` over its socket: frames input, performs actions, streams DATA into
/// a spool receipt, and switches the socket to TLS when the session says so. All protocol decisions are the
/// session's; this type only moves bytes.
struct InboundConnection {
    let connection: TCPConnection
    let configuration: SMTPServerConfiguration
    /// Whether the listener speaks TLS from the first byte (RFC 8314).
    let implicitTLS: Bool
    let spool: Spool
    let registry: ConnectionRegistry
    let limits: InboundLimits
    let metrics: ReceivingMetrics
    var logger: Logger

    private var session: ServerSession
    /// The connection itself, or its TLS layer once a handshake finished.
    private var stream: any ByteStream
    private var input = InputBuffer()
    private var framer = CommandLineFramer()
    private var output: [UInt8] = []
    private var receipt: SpoolReceipt?
    /// A spool write that failed while DATA was still streaming; the client hears of it after the final dot.
    private var spoolFailure: SpoolError?

    init(
        connection: TCPConnection, configuration: SMTPServerConfiguration, implicitTLS: Bool = false, spool: Spool,
        registry: ConnectionRegistry, limits: InboundLimits, metrics: ReceivingMetrics, logger: Logger
    ) {
        self.connection = connection
        self.stream = connection
        self.configuration = configuration
        self.implicitTLS = implicitTLS
        self.spool = spool
        self.registry = registry
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
        self.logger[metadataKey: "client"] = "\(connection.peer.host)"
        session = ServerSession(configuration: .init(
            hostname: configuration.hostname,
            maxMessageSize: configuration.maxMessageSize,
            maxRecipients: configuration.maxRecipients,
            relayAllowed: configuration.policy.allowsRelay(from: connection.peer),
            startTLS: configuration.startTLSPolicy(),
            tlsActive: implicitTLS,
            auth: configuration.authPolicy(),
            authWithoutTLS: configuration.authWithoutTLSOnLoopback && connection.peer.isLoopback,
            allowedSenderDomains: configuration.allowedSenderDomains,
            limitsMessageRate: configuration.messagesPerMinute > 0))
    }

    /// Runs the session to its end. Never throws: every ending is logged here.
    mutating func run() async {
        logger.debug("connect")
        let key = registry.add(connection)
        do {
            if implicitTLS {
                guard try await handshake() else { return end(key) }
            }
            try await perform(session.handle(.connected))
            while !session.isClosed {
                while !session.isClosed, let event = framer.next(from: &input) {
                    try await perform(session.handle(.input(event)))
                }
                try await flush()
                if session.isClosed { break }
                let deadline = ContinuousClock.now + configuration.commandTimeout
                let n: Int
                do {
                    guard registry.setIdle(key, true) else { throw TransportError.cancelled }
                    defer { _ = registry.setIdle(key, false) }
                    n = try await stream.read(maxBytes: 64 * 1024, deadline: deadline) { input.append($0) }
                } catch TransportError.timedOut {
                    logger.info("timeout", metadata: ["phase": "command"])
                    try await perform(session.handle(.timedOut))
                    try await flush()
                    break
                }
                if n == 0 {
                    logger.debug("client closed the connection")
                    break
                }
            }
        } catch TransportError.cancelled {
            // Over TLS a plain-text 421 would be garbage to the client; it just sees the connection close.
            if stream === connection {
                output.append(contentsOf: SMTPReply(421, .init(4, 3, 2), "\(configuration.hostname) Service shutting down").wireBytes)
                connection.writeWithoutWaiting(output)
            }
            logger.info("session ended by shutdown")
        } catch {
            logger.info("session ended", metadata: ["reason": "\(error)"])
        }
        if let receipt { await receipt.abandon() }
        end(key)
    }

    private func end(_ key: Int) {
        registry.remove(key)
        stream.close()
        connection.close()
        logger.debug("disconnect")
    }

    /// The server side of the TLS handshake, on the connection's first byte (implicit TLS) or after the 220 to
    /// STARTTLS; false when it failed, which ends the session (the client may retry without TLS if it wants).
    private mutating func handshake() async throws -> Bool {
        guard let context = configuration.tls else { return false }
        do {
            stream = try await TLSConnection.accept(
                over: connection, context: context, deadline: ContinuousClock.now + configuration.commandTimeout)
        } catch {
            metrics.countTLSFailure()
            logger.info("TLS handshake failed", metadata: ["error": "\(error)"])
            return false
        }
        logger.debug("TLS established")
        return true
    }

    private mutating func perform(_ actions: [ServerSession.Action]) async throws {
        for action in actions {
            switch action {
            case .send(let reply):
                // Every reply the session decides passes here: the one place that sees all refusals.
                metrics.countIfRejection(reply)
                output.append(contentsOf: reply.wireBytes)
            case .receiveData(let sizeLimit):
                try await flush()
                try await receiveData(sizeLimit: sizeLimit)
            case .commit(let transaction, _):
                try await commit(transaction)
            case .startTLS:
                try await flush()
                // Whatever the client sent after STARTTLS in plain text must not be read as if it came
                // over TLS (the command injection of CVE-2011-0411): it is dropped with any partial line.
                input = InputBuffer()
                framer = CommandLineFramer()
                guard try await handshake() else { throw InboundSessionEnd.tlsHandshakeFailed }
                try await perform(session.handle(.tlsEstablished))
            case .verifyCredentials(let username, let password):
                try await flush()
                try await perform(session.handle(await verify(username: username, password: password)))
            case .admitMessage(let user):
                let admitted = limits.admitMessage(address: connection.peer.host, user: user)
                if !admitted {
                    logger.warning("message refused: inbound.rate.messages_per_minute reached", metadata: [
                        "user": "\(user ?? "-")", "limit": "\(configuration.messagesPerMinute)"])
                }
                try await perform(session.handle(.messageAdmission(admitted: admitted)))
            case .close:
                // The socket itself is closed at the end of `run`, after the registry forgets it, so a
                // shutdown never interrupts a descriptor number that has been closed and reused.
                try await flush()
            }
        }
    }

    /// Checks AUTH credentials off the event loop, after the delay this address has earned with earlier
    /// failures. Only the user name is ever logged.
    private mutating func verify(username: String, password: String) async -> ServerSession.Event {
        let address = connection.peer.host
        let delay = limits.authFailures.delay(for: address)
        if delay > .zero { try? await Task.sleep(for: delay) }
        guard let store = configuration.credentials else { return .authenticationFailed }
        let user = await limits.passwordChecks.run { store.verify(username: username, password: password) }
        guard let user else {
            limits.authFailures.recordFailure(address)
            logger.warning("authentication failed", metadata: ["user": "\(username)"])
            return .authenticationFailed
        }
        limits.authFailures.recordSuccess(address)
        logger.info("authenticated", metadata: ["user": "\(user.name)"])
        logger[metadataKey: "user"] = "\(user.name)"
        return .authenticated(user: user.name, senderDomains: user.senderDomains)
    }

    private mutating func flush() async throws {
        guard !output.isEmpty, connection.isOpen else { return }
        let bytes = output
        output.removeAll(keepingCapacity: true)
        try await stream.write(bytes, deadline: ContinuousClock.now + configuration.commandTimeout)
    }

    /// Streams the message into a receipt until CRLF.CRLF, then lets the session judge it.
    private mutating func receiveData(sizeLimit: Int) async throws {
        guard let transaction = session.transaction else { return }
        let receipt = spool.beginReceipt(
            sender: transaction.sender.address,
            recipients: transaction.recipients.map(\.description),
            clientAddress: connection.peer.host,
            clientName: session.clientName ?? "",
            eightBitMIME: transaction.parameters.body == .eightBitMIME,
            smtputf8: transaction.parameters.smtputf8)
        self.receipt = receipt
        spoolFailure = nil
        logger[metadataKey: "id"] = "\(receipt.id)"
        let protocolName = ReceivedHeader.protocolName(
            ehlo: session.usedEHLO, tls: session.isTLSActive, authenticated: session.authenticatedUser != nil,
            smtputf8: transaction.parameters.smtputf8)
        await append(ReceivedHeader.make(
            clientName: session.clientName ?? "", clientAddress: connection.peer.host,
            hostname: configuration.hostname, protocolName: protocolName, queueID: receipt.id.rawValue,
            recipients: transaction.recipients.map(\.description), date: time(nil)), to: receipt)

        var decoder = DataDecoder(sizeLimit: sizeLimit)
        var chunk: [UInt8] = []
        while true {
            if !input.isEmpty {
                let used = decoder.decode(input.readable, into: &chunk)
                input.consume(used)
                if !chunk.isEmpty, !decoder.findings.exceededSizeLimit {
                    await append(chunk, to: receipt)
                }
                chunk.removeAll(keepingCapacity: true)
                if decoder.isFinished { break }
            }
            let deadline = ContinuousClock.now + configuration.dataTimeout
            do {
                if try await stream.read(maxBytes: 64 * 1024, deadline: deadline, { input.append($0) }) == 0 {
                    throw TransportError.closed
                }
            } catch TransportError.timedOut {
                logger.info("timeout", metadata: ["phase": "data"])
                try await perform(session.handle(.timedOut))
                throw TransportError.timedOut
            }
        }
        let findings = decoder.findings
        let actions = session.handle(.dataReceived(findings))
        if case .send(let refusal)? = actions.first {
            logger.info("rejected", metadata: ["reply": "\(refusal)", "size": "\(findings.size)"])
            await receipt.abandon()
            self.receipt = nil
            logger[metadataKey: "id"] = nil
        }
        try await perform(actions)
    }

    /// Appends to the receipt unless an earlier write failed; a failure is kept for the final reply, and the
    /// rest of the message is read and dropped so the client stays in step.
    private mutating func append(_ bytes: [UInt8], to receipt: SpoolReceipt) async {
        guard spoolFailure == nil else { return }
        do {
            try await receipt.append(bytes)
        } catch {
            spoolFailure = error
        }
    }

    private mutating func commit(_ transaction: MailTransaction) async throws {
        guard let receipt else { return }
        self.receipt = nil
        let event: ServerSession.Event
        do throws(SpoolError) {
            if let failure = spoolFailure {
                await receipt.abandon()
                throw failure
            }
            let id = try await receipt.commit()
            logger.info("accepted", metadata: [
                "from": "<\(transaction.sender.address)>",
                "nrcpt": "\(transaction.recipients.count)",
            ])
            metrics.messagesReceived.increment()
            event = .committed(queueID: id.rawValue)
        } catch {
            logger.error("commit failed", metadata: ["error": "\(error)"])
            event = .commitFailed(error.smtpReply)
        }
        logger[metadataKey: "id"] = nil
        try await perform(session.handle(event))
        try await flush()
    }
}

/// Why a session ended that is neither the client's doing nor an I/O error.
enum InboundSessionEnd: Error, CustomStringConvertible {
    case tlsHandshakeFailed

    var description: String {
        switch self {
        case .tlsHandshakeFailed: "TLS handshake failed"
        }
    }
}

/// The client side of one SMTP connection as a pure state machine: the driver feeds it events and performs its actions.
///
/// The session goes greeting → EHLO (→ HELO fallback) → STARTTLS → EHLO again → AUTH → ready, then runs one
/// transaction per `.start` until `.quit`. Session state (security, capabilities) is kept apart from transaction
/// state (`TransactionProgress`, which lives only inside `Phase.transaction`).
///
/// Rules the driver relies on:
/// - Every failure is one `.failed` action and nothing is sent with it: the driver closes the socket and defers
///   `inFlight`'s recipients. After that the session is closed: replies are ignored, `.quit` answers `.close`, and
///   `.start` answers `.failed` again with the transaction it was given, so no transaction is silently lost.
/// - STARTTLS: after the 220 the session asks for `.startTLS`; before feeding `.tlsEstablished` the driver checks
///   `SMTPReplyParser.bufferedByteCount == 0` and, if not, closes and reports `ClientSessionFailure.plaintextInjection`
///   itself (the STARTTLS injection bugs, e.g. CVE-2011-0411, seen from the client side: a man in the middle
///   appends plaintext replies that would otherwise be read as if they came over TLS). A reply fed while the
///   handshake is awaited fails the session with that same failure. The driver starts a fresh parser for TLS.
/// - A misused session (an event that is not valid in its state, e.g. `.start` while a transaction runs) is a
///   programmer error. It does not trap: the session fails with `.unexpectedReply` carrying a synthesized
///   `451 4.3.0` reply whose text names the misuse, `command` naming the event, and `inFlight` the transaction the
///   session had started or, if none, the one `.start` passed. The message is deferred, never lost.
public struct ClientSession: Sendable {
    /// How the connection is protected.
    public enum Security: Sendable, Equatable {
        /// Plain TCP, then STARTTLS is required before anything else (RFC 3207).
        case startTLS
        /// TLS from the first byte (RFC 8314), so the session is secure from the greeting on.
        case implicitTLS
        /// No TLS: STARTTLS is never sent, even when offered.
        case none
    }

    /// What the session needs to know about the upstream and its login.
    public struct Configuration: Sendable, Equatable {
        public var heloName: String
        public var security: Security
        /// nil: no AUTH, even when offered.
        public var credentials: SASLCredentials?
        /// Whether credentials may be sent without TLS (a test relay on localhost, say).
        public var allowPlaintextAuthentication: Bool

        public init(heloName: String, security: Security, credentials: SASLCredentials?, allowPlaintextAuthentication: Bool) {
            self.heloName = heloName
            self.security = security
            self.credentials = credentials
            self.allowPlaintextAuthentication = allowPlaintextAuthentication
        }
    }

    /// Something that happened on the connection.
    public enum Event: Sendable, Equatable {
        /// The socket (and, for implicitTLS, TLS) is up; the greeting is next.
        case connected
        case replyReceived(SMTPReply)
        /// The driver finished the TLS handshake after STARTTLS's 220.
        case tlsEstablished
        /// Only valid when the last action was `.ready`.
        case start(ClientTransaction)
        /// The driver wants to end politely (only when `.ready`).
        case quit
    }

    /// What the driver must do next, in order.
    public enum Action: Sendable, Equatable {
        /// Write these bytes (one write; pipelined commands come as ONE `.send`).
        case send([UInt8])
        /// Do the TLS client handshake now, then feed `.tlsEstablished` (or close on failure).
        case startTLS
        /// 354 received: stream the dot-stuffed message (`DotStuffer`) including the final ".\r\n", then wait for a reply.
        case sendBody
        /// Authenticated and idle: give me a transaction (`.start`) or `.quit`.
        case ready(ServerCapabilities)
        /// A transaction ended; the session goes on: another `.ready` follows in the same action list or after
        /// RSET's reply.
        case completed(ClientTransactionResult)
        /// The session is unusable; the driver closes the socket; inFlight's recipients are deferred by the driver.
        case failed(ClientSessionFailure, inFlight: ClientTransaction?)
        /// After QUIT's reply (or when told to quit after a failure): close the socket.
        case close
    }

    /// Where the session is. Each case is one reply (or event) being awaited.
    enum Phase: Sendable {
        case disconnected
        case greeting
        case ehlo
        case helo
        case startTLS
        /// `.startTLS` was returned; the driver is doing the handshake.
        case handshaking
        case authenticating(AuthenticationStep)
        case ready
        case transaction(TransactionProgress)
        /// RSET was sent after a transaction that did not end with a 2xx to the final dot.
        case resetting
        case quitting
        case closed
    }

    public let configuration: Configuration
    var phase = Phase.disconnected
    /// From the last EHLO (or `.none` after HELO); nil before it and after STARTTLS, whose EHLO starts afresh.
    public internal(set) var capabilities: ServerCapabilities?
    /// True once TLS is up (implicit or after STARTTLS).
    public internal(set) var isSecure: Bool

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.isSecure = configuration.security == .implicitTLS
    }

    /// The transaction under way, if any: the one whose recipients the driver defers when the connection breaks.
    public var inFlight: ClientTransaction? {
        if case .transaction(let progress) = phase { return progress.transaction }
        return nil
    }

    /// True while a transaction's final-dot reply is awaited (the driver uses the longer data timeout then).
    public var awaitingDataReply: Bool {
        if case .transaction(let progress) = phase { return progress.awaitingDataReply }
        return false
    }

    /// The reply being waited for, in words for a log line ("the greeting", "the reply to the final dot"): a
    /// timeout after the dot is the one case where the upstream may already have the message.
    public var awaitedReply: String {
        switch phase {
        case .disconnected, .greeting: "the greeting"
        case .ehlo: "the reply to EHLO"
        case .helo: "the reply to HELO"
        case .startTLS: "the reply to STARTTLS"
        case .handshaking: "the TLS handshake"
        case .authenticating: "the reply to AUTH"
        case .ready: "a reply"
        case .transaction(let progress):
            switch progress.step {
            case .mail: "the reply to MAIL"
            case .rcpt: "the reply to RCPT"
            case .data: "the reply to DATA"
            case .body, .emptyBody: "the reply to the final dot"
            }
        case .resetting: "the reply to RSET"
        case .quitting: "the reply to QUIT"
        case .closed: "nothing"
        }
    }

    /// True once the session is over (failed or closed); every later event is answered without I/O.
    public var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    /// Feeds one event; returns the actions to perform in order (may be empty = wait for the next reply).
    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .connected:
            guard case .disconnected = phase else { return misuse("connected", "the session was already connected") }
            phase = .greeting
            return []
        case .replyReceived(let reply):
            return received(reply)
        case .tlsEstablished:
            return tlsEstablished()
        case .start(let transaction):
            return start(transaction)
        case .quit:
            return quit()
        }
    }

    private mutating func received(_ reply: SMTPReply) -> [Action] {
        switch phase {
        case .disconnected:
            return misuse("replyReceived", "a reply before the connection was reported")
        case .closed:
            return []
        case .quitting:
            // Whatever the answer to QUIT, the session is over.
            phase = .closed
            return [.close]
        case .handshaking:
            return fail(.plaintextInjection)
        case _ where reply.code == 421:
            // RFC 5321 §3.8: the server is shutting the channel down, whatever was asked.
            return fail(.serviceClosing(reply))
        case .greeting:
            guard reply.code == 220 else { return fail(.greetingRefused(reply)) }
            phase = .ehlo
            return send("EHLO \(configuration.heloName)")
        case .ehlo:
            return ehloReplied(reply)
        case .helo:
            guard reply.isPositive else { return fail(.ehloRefused(reply)) }
            return negotiated(.none)
        case .startTLS:
            guard reply.code == 220 else { return fail(.startTLSRefused(reply)) }
            phase = .handshaking
            return [.startTLS]
        case .authenticating(let step):
            return authenticationReplied(reply, step: step)
        case .ready:
            return fail(.unexpectedReply(reply, command: "nothing (the session was idle)"))
        case .transaction(let progress):
            return transactionReplied(reply, progress)
        case .resetting:
            guard reply.isPositive else { return fail(.unexpectedReply(reply, command: "RSET")) }
            return becomeReady()
        }
    }

    private mutating func quit() -> [Action] {
        switch phase {
        case .ready:
            phase = .quitting
            return send("QUIT")
        case .quitting:
            return []
        case .closed:
            return [.close]
        case .disconnected, .greeting, .ehlo, .helo, .startTLS, .handshaking, .authenticating, .transaction, .resetting:
            return misuse("quit", "QUIT asked for while the session was not ready")
        }
    }

    // MARK: Helpers shared by the extensions

    /// One command line (CRLF appended) as one write.
    func send(_ command: String) -> [Action] {
        [.send(Array(command.utf8) + [13, 10])]
    }

    mutating func becomeReady() -> [Action] {
        guard let capabilities else { return misuse("ready", "no capabilities were negotiated") }
        phase = .ready
        return [.ready(capabilities)]
    }

    /// Ends the session; the transaction under way (or `pending`, one that was about to start) goes with it.
    mutating func fail(_ failure: ClientSessionFailure, pending: ClientTransaction? = nil) -> [Action] {
        let transaction = inFlight ?? pending
        phase = .closed
        return [.failed(failure, inFlight: transaction)]
    }

    /// An event the session cannot take in its state: a driver bug, reported as a failure, never a trap.
    mutating func misuse(_ event: String, _ why: String, pending: ClientTransaction? = nil) -> [Action] {
        let reply = SMTPReply(451, EnhancedStatusCode(4, 3, 0), "MailRelay client session misused: \(why)")
        return fail(.unexpectedReply(reply, command: event), pending: pending)
    }
}

/// The inbound SMTP session as a pure state machine: events in, actions out, no I/O.
///
/// Session state (HELO name, error count) is kept apart from transaction state (`MailTransaction`), as
/// OpenSMTPD does. The one rule that matters most is visible in `handle(.dataReceived)`: the session never
/// says 250 to a message on its own; it asks for a commit and says 250 only on `.committed`.
public struct ServerSession: Sendable {
    /// What the session needs to know about its limits and its client.
    public struct Configuration: Sendable {
        public var hostname: String
        public var maxMessageSize: Int
        public var maxRecipients: Int
        /// Errors tolerated before the session closes with 421.
        public var maxErrors: Int
        /// Whether the client may relay (its address is in the allowed networks).
        public var relayAllowed: Bool
        /// Whether STARTTLS is advertised and accepted, and whether MAIL must wait for it.
        public var startTLS: StartTLSPolicy
        /// Whether the connection is TLS from its first byte (an implicit-TLS listener, RFC 8314).
        public var tlsActive: Bool
        /// Whether AUTH is advertised and accepted, and whether MAIL must wait for it.
        public var auth: AuthPolicy
        /// Whether AUTH may happen without TLS (a loopback client the operator trusts with plain-text passwords).
        public var authWithoutTLS: Bool
        /// Lower-cased domains every MAIL FROM must belong to, unless the user's own list applies; empty allows any.
        public var allowedSenderDomains: [String]
        /// Whether an accepted MAIL waits for the connection's rate check (`.admitMessage`) before its 250.
        public var limitsMessageRate: Bool

        public init(
            hostname: String, maxMessageSize: Int, maxRecipients: Int, maxErrors: Int = 10, relayAllowed: Bool,
            startTLS: StartTLSPolicy = .unavailable, tlsActive: Bool = false,
            auth: AuthPolicy = .unavailable, authWithoutTLS: Bool = false, allowedSenderDomains: [String] = [],
            limitsMessageRate: Bool = false
        ) {
            self.hostname = hostname
            self.maxMessageSize = maxMessageSize
            self.maxRecipients = maxRecipients
            self.maxErrors = maxErrors
            self.relayAllowed = relayAllowed
            self.startTLS = startTLS
            self.tlsActive = tlsActive
            self.auth = auth
            self.authWithoutTLS = authWithoutTLS
            self.allowedSenderDomains = allowedSenderDomains
            self.limitsMessageRate = limitsMessageRate
        }
    }

    /// Something that happened on the connection.
    public enum Event: Sendable, Equatable {
        case connected
        case input(CommandLineFramer.Event)
        /// The DATA stream ended with CRLF.CRLF; the decoder's findings decide the verdict.
        case dataReceived(DataDecoder.Findings)
        case committed(queueID: String)
        case commitFailed(SMTPReply)
        case timedOut
        /// The TLS handshake asked for by `.startTLS` succeeded (a failed one just closes the connection).
        case tlsEstablished
        /// The credentials asked for by `.verifyCredentials` are right; `senderDomains` (lower-cased) limits MAIL FROM
        /// for this user, empty leaving it to `allowedSenderDomains`.
        case authenticated(user: String, senderDomains: [String])
        /// The credentials asked for by `.verifyCredentials` are wrong (or could not be checked).
        case authenticationFailed
        /// The answer to `.admitMessage`: whether the client's (and user's) message rate allows one more.
        case messageAdmission(admitted: Bool)
    }

    /// What the connection must do next, in order.
    public enum Action: Sendable, Equatable {
        case send(SMTPReply)
        /// Switch the input to the DATA decoder with this size limit.
        case receiveData(sizeLimit: Int)
        /// Make the message durable; answer with `.committed` or `.commitFailed`.
        case commit(MailTransaction, heloName: String)
        /// Flush the 220, discard any input already buffered, run the server TLS handshake, then send `.tlsEstablished`.
        case startTLS
        /// Check these credentials, then send `.authenticated` or `.authenticationFailed`; feed no input meanwhile.
        case verifyCredentials(username: String, password: String)
        /// Check the message rate of the client's address and of `user` (when authenticated), then send
        /// `.messageAdmission` before any further input.
        case admitMessage(user: String?)
        case close
    }

    private enum Phase: Sendable {
        case fresh
        case idle
        case transaction(MailTransaction)
        case receivingData(MailTransaction)
        case committing(MailTransaction)
        case closed
    }

    public let configuration: Configuration
    private var phase = Phase.fresh
    private var heloName: String?
    private var errorCount = 0
    /// A 220 to STARTTLS went out and `.tlsEstablished` has not come yet.
    private var awaitingTLS = false

    private enum AuthExchange: Sendable {
        case none
        /// A 334 went out; the next line is a SASL response, not a command.
        case responding(SASLServerExchange)
        /// `.verifyCredentials` went out and its answer has not come yet.
        case verifying
    }

    private var authExchange = AuthExchange.none
    /// The authenticated user's own sender domains; empty leaves MAIL FROM to `allowedSenderDomains`.
    private var userSenderDomains: [String] = []

    /// A MAIL that passed every check and waits for `.messageAdmission`.
    private var awaitingAdmission: MailTransaction?

    /// The user the client authenticated as with AUTH, if it did.
    public private(set) var authenticatedUser: String?

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.isTLSActive = configuration.tlsActive
    }

    /// Whether the connection is encrypted: after `.tlsEstablished`, or from the start on an implicit-TLS listener.
    public private(set) var isTLSActive: Bool

    private var offersStartTLS: Bool { configuration.startTLS != .unavailable && !isTLSActive }

    /// Passwords go in base64, which is plain text: only over TLS, unless the operator allowed otherwise.
    private var authPermitted: Bool { configuration.auth != .unavailable && (isTLSActive || configuration.authWithoutTLS) }

    private var offersAuth: Bool { authPermitted && authenticatedUser == nil }

    /// The name the client gave in HELO/EHLO, for the Received: header and logs.
    public var clientName: String? { heloName }

    /// Whether the client greeted with EHLO (the Received: header says ESMTP then).
    public private(set) var usedEHLO = false

    /// The transaction whose data is being received or committed, if any.
    public var transaction: MailTransaction? {
        switch phase {
        case .transaction(let t), .receivingData(let t), .committing(let t): return t
        case .fresh, .idle, .closed: return nil
        }
    }

    private var isCommitting: Bool {
        if case .committing = phase { return true }
        return false
    }

    public var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .connected:
            phase = .idle
            return [.send(SMTPReply(220, nil, "\(configuration.hostname) ESMTP MailRelay"))]
        case .input where isCommitting:
            // The driver reads nothing while a commit is pending; should input arrive anyway, refuse it
            // rather than let it reset the phase and lose the 250 for a message that is being queued.
            return [.send(SMTPReply(451, .init(4, 5, 0), "Error: previous message is still being committed"))]
        case .input where isVerifyingCredentials:
            // As while committing: the driver reads nothing until the verdict, and anything that comes anyway
            // must not run (a pipelined MAIL would be judged as unauthenticated) nor lose the 235 or 535.
            return [.send(SMTPReply(451, .init(4, 5, 0), "Error: authentication is still being verified"))]
        case .input(.lineTooLong) where isRespondingToChallenge:
            authExchange = .none
            return error(.lineTooLong)
        case .input(.line(let line)) where isRespondingToChallenge:
            return saslResponse(line)
        case .input(.lineTooLong):
            return error(.lineTooLong)
        case .input(.line(let line)):
            switch SMTPCommandParser.parse(line) {
            case .success(let command): return handle(command)
            case .failure(let parseError): return error(parseError)
            }
        case .dataReceived(let findings):
            return dataReceived(findings)
        case .committed(let queueID):
            guard case .committing = phase else { return [] }
            phase = .idle
            return [.send(SMTPReply(250, .init(2, 0, 0), "Ok: queued as \(queueID)"))]
        case .commitFailed(let reply):
            guard case .committing = phase else { return [] }
            phase = .idle
            return [.send(reply)]
        case .timedOut:
            phase = .closed
            authExchange = .none
            return [.send(SMTPReply(421, .init(4, 4, 2), "\(configuration.hostname) Error: timeout exceeded")), .close]
        case .tlsEstablished:
            return tlsEstablished()
        case .authenticated(let user, let senderDomains):
            guard isVerifyingCredentials, !isClosed else { return [] }
            authExchange = .none
            authenticatedUser = user
            userSenderDomains = senderDomains
            return [.send(SMTPReply(235, .init(2, 7, 0), "Authentication successful"))]
        case .authenticationFailed:
            guard isVerifyingCredentials, !isClosed else { return [] }
            authExchange = .none
            return error(reply: SMTPReply(535, .init(5, 7, 8), "Error: authentication failed"))
        case .messageAdmission(let admitted):
            guard let transaction = awaitingAdmission, !isClosed else { return [] }
            awaitingAdmission = nil
            // Not counted as a client error: the client did nothing wrong, it is only early.
            guard admitted else {
                return [.send(SMTPReply(450, .init(4, 7, 1), "Error: too many messages from you, try again later"))]
            }
            phase = .transaction(transaction)
            return [.send(SMTPReply(250, .init(2, 1, 0), "Ok"))]
        }
    }

    private var isVerifyingCredentials: Bool {
        if case .verifying = authExchange { return true }
        return false
    }

    private var isRespondingToChallenge: Bool {
        if case .responding = authExchange { return true }
        return false
    }

    private mutating func handle(_ command: SMTPCommand) -> [Action] {
        switch command {
        case .helo(let domain):
            heloName = domain
            usedEHLO = false
            phase = .idle
            return [.send(SMTPReply(250, nil, configuration.hostname))]
        case .ehlo(let domain):
            heloName = domain
            usedEHLO = true
            phase = .idle
            var keywords = [configuration.hostname, "PIPELINING", "SIZE \(configuration.maxMessageSize)"]
            // Right after SIZE, where Postfix puts it.
            if offersStartTLS { keywords.append("STARTTLS") }
            if offersAuth { keywords.append("AUTH PLAIN LOGIN") }
            keywords += ["8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
            return [.send(SMTPReply(250, nil, lines: keywords))]
        case .mail(let sender, let parameters):
            return mail(from: sender, parameters: parameters)
        case .rcpt(let recipient, _):
            return rcpt(to: recipient)
        case .data:
            return data()
        case .rset:
            if heloName != nil { phase = .idle }
            return [.send(SMTPReply(250, .init(2, 0, 0), "Ok"))]
        case .noop:
            return [.send(SMTPReply(250, .init(2, 0, 0), "Ok"))]
        case .quit:
            phase = .closed
            return [.send(SMTPReply(221, .init(2, 0, 0), "Bye")), .close]
        case .vrfy:
            return [.send(SMTPReply(252, .init(2, 5, 2), "Cannot VRFY user; send mail and delivery will be attempted"))]
        case .help:
            let commands = ["EHLO", "HELO"] + (offersStartTLS ? ["STARTTLS"] : []) + (offersAuth ? ["AUTH"] : [])
                + ["MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "VRFY", "HELP"]
            return [.send(SMTPReply(214, .init(2, 0, 0), "Commands: \(commands.joined(separator: " "))"))]
        case .starttls:
            return startTLS()
        case .auth(let mechanism, let initialResponse):
            return auth(mechanism: mechanism, initialResponse: initialResponse)
        }
    }

    private mutating func auth(mechanism name: String, initialResponse: String?) -> [Action] {
        guard configuration.auth != .unavailable else {
            return error(reply: SMTPReply(502, .init(5, 5, 1), "Error: command not implemented"))
        }
        guard authPermitted else {
            return error(reply: SMTPReply(538, .init(5, 7, 11), "Encryption required for requested authentication mechanism"))
        }
        if let refusal = refusalUnlessGreetedOutsideTransaction() { return refusal }
        guard authenticatedUser == nil else {
            return error(reply: SMTPReply(503, .init(5, 5, 1), "Error: already authenticated"))
        }
        guard let mechanism = SASLMechanism(rawValue: name) else {
            return error(reply: SMTPReply(504, .init(5, 5, 4), "Unsupported authentication mechanism"))
        }
        let (exchange, step) = SASLServerExchange.start(mechanism, initialResponse: initialResponse)
        return sasl(step, exchange)
    }

    private mutating func saslResponse(_ line: [UInt8]) -> [Action] {
        guard case .responding(var exchange) = authExchange else { return [] }
        // The framer's limit is the connection's choice; a response is held to the command line limit either way.
        guard line.count <= SMTPCommandParser.maxLineLength - 2 else {
            authExchange = .none
            return error(.lineTooLong)
        }
        let step = exchange.respond(line)
        return sasl(step, exchange)
    }

    private mutating func sasl(_ step: SASLServerExchange.Step, _ exchange: SASLServerExchange) -> [Action] {
        switch step {
        case .challenge(let text):
            authExchange = .responding(exchange)
            return [.send(SMTPReply(334, nil, text))]
        case .credentials(let credentials):
            authExchange = .verifying
            return [.verifyCredentials(username: credentials.username, password: credentials.password)]
        case .aborted:
            authExchange = .none
            return error(reply: SMTPReply(501, .init(5, 0, 0), "Authentication aborted"))
        case .undecodable:
            authExchange = .none
            return error(reply: SMTPReply(501, .init(5, 5, 2), "Cannot decode response"))
        case .authorizationMismatch:
            authExchange = .none
            return error(reply: SMTPReply(535, .init(5, 7, 8), "Error: authentication failed"))
        }
    }

    /// STARTTLS and AUTH change the session itself, so they need a greeting and no mail transaction: the
    /// refusal when that is not so (nothing once the session is closed), or nil when it is.
    private mutating func refusalUnlessGreetedOutsideTransaction() -> [Action]? {
        switch phase {
        case .closed:
            return []
        case .idle where heloName == nil, .fresh:
            return error(reply: SMTPReply(503, .init(5, 5, 1), "Error: send HELO/EHLO first"))
        case .transaction, .receivingData, .committing:
            return error(reply: SMTPReply(503, .init(5, 5, 1), "Error: MAIL transaction in progress"))
        case .idle:
            return nil
        }
    }

    private mutating func startTLS() -> [Action] {
        guard configuration.startTLS != .unavailable else {
            return error(reply: SMTPReply(502, .init(5, 5, 1), "Error: command not implemented"))
        }
        guard !isTLSActive else {
            return error(reply: SMTPReply(503, .init(5, 5, 1), "Error: TLS already active"))
        }
        if let refusal = refusalUnlessGreetedOutsideTransaction() { return refusal }
        // RFC 3207 §4.2: nothing learnt in plain text survives the handshake; the client must EHLO again.
        heloName = nil
        usedEHLO = false
        awaitingTLS = true
        return [.send(SMTPReply(220, .init(2, 0, 0), "Ready to start TLS")), .startTLS]
    }

    private mutating func tlsEstablished() -> [Action] {
        guard awaitingTLS, !isClosed else { return [] }
        awaitingTLS = false
        isTLSActive = true
        // The connection feeds no input during the handshake; should some have been fed anyway, what it set up
        // came in plain text and is forgotten like everything else from before TLS (RFC 3207 §4.2).
        heloName = nil
        usedEHLO = false
        if case .transaction = phase { phase = .idle }
        // Only possible with authWithoutTLS, and then a login made in plain text is forgotten like the rest.
        authenticatedUser = nil
        userSenderDomains = []
        return []
    }

    private mutating func mail(from sender: ReversePath, parameters: MailParameters) -> [Action] {
        switch phase {
        case .idle where heloName == nil, .fresh:
            return error(reply: SMTPReply(503, .init(5, 5, 1), "Error: send HELO/EHLO first"))
        case .transaction, .receivingData, .committing:
            return error(reply: SMTPReply(503, .init(5, 5, 1), "Error: nested MAIL command"))
        case .closed:
            return []
        case .idle:
            break
        }
        if configuration.startTLS == .required, !isTLSActive {
            return error(reply: SMTPReply(530, .init(5, 7, 0), "Must issue a STARTTLS command first"))
        }
        if configuration.auth == .required, authenticatedUser == nil {
            return error(reply: SMTPReply(530, .init(5, 7, 0), "Authentication required"))
        }
        if let refusal = senderRefusal(sender) {
            return error(reply: refusal)
        }
        if let size = parameters.size, size > configuration.maxMessageSize {
            return [.send(SMTPReply(552, .init(5, 3, 4), "Message size exceeds fixed limit of \(configuration.maxMessageSize) octets"))]
        }
        if case .mailbox(let mailbox) = sender, mailbox.requiresSMTPUTF8, !parameters.smtputf8 {
            return [.send(SMTPReply(553, .init(5, 6, 7), "Non-ASCII sender address requires the SMTPUTF8 parameter"))]
        }
        let transaction = MailTransaction(sender: sender, parameters: parameters)
        if configuration.limitsMessageRate {
            awaitingAdmission = transaction
            return [.admitMessage(user: authenticatedUser)]
        }
        phase = .transaction(transaction)
        return [.send(SMTPReply(250, .init(2, 1, 0), "Ok"))]
    }

    private mutating func rcpt(to path: Mailbox) -> [Action] {
        let recipient = path.domain.isEmpty ? Mailbox(localPart: path.localPart, domain: configuration.hostname) : path
        guard case .transaction(var transaction) = phase else {
            return error(reply: SMTPReply(503, .init(5, 5, 1), "Error: need MAIL command"))
        }
        guard configuration.relayAllowed || authenticatedUser != nil else {
            return [.send(SMTPReply(554, .init(5, 7, 1), "<\(recipient)>: Relay access denied"))]
        }
        if recipient.requiresSMTPUTF8, !transaction.parameters.smtputf8 {
            return [.send(SMTPReply(553, .init(5, 6, 7), "Non-ASCII recipient address requires the SMTPUTF8 parameter"))]
        }
        // A repeated recipient is accepted and recorded once, so it is delivered once (as Postfix's cleanup does).
        if transaction.recipients.contains(recipient) {
            return [.send(SMTPReply(250, .init(2, 1, 5), "Ok"))]
        }
        guard transaction.recipients.count < configuration.maxRecipients else {
            return [.send(SMTPReply(452, .init(4, 5, 3), "Error: too many recipients"))]
        }
        transaction.recipients.append(recipient)
        phase = .transaction(transaction)
        return [.send(SMTPReply(250, .init(2, 1, 5), "Ok"))]
    }

    /// The 553 for a sender outside the domains this client may use, or nil when it may use this one.
    private func senderRefusal(_ sender: ReversePath) -> SMTPReply? {
        // Bounces have no sender to check, and refusing them would lose the notice of a failed delivery.
        guard case .mailbox(let mailbox) = sender else { return nil }
        // Only ASCII letters are folded: Unicode case mapping would let a look-alike such as the Kelvin sign
        // in "\u{212A}.example" pass for an allowed "k.example".
        let domain = Self.asciiLowercased(mailbox.domain)
        // An address literal names a host, not a domain anyone owns, so it matches no list.
        let matches = { (allowed: [String]) in
            !domain.isEmpty && !domain.hasPrefix("[") && allowed.contains { Self.asciiLowercased($0) == domain }
        }
        if let user = authenticatedUser, !userSenderDomains.isEmpty {
            return matches(userSenderDomains)
                ? nil : SMTPReply(553, .init(5, 7, 1), "Sender address rejected: not owned by user \(Self.printable(user))")
        }
        if !configuration.allowedSenderDomains.isEmpty {
            return matches(configuration.allowedSenderDomains)
                ? nil : SMTPReply(553, .init(5, 7, 1), "Sender address rejected: not allowed for this relay")
        }
        return nil
    }

    private mutating func data() -> [Action] {
        guard case .transaction(let transaction) = phase else {
            return error(reply: SMTPReply(503, .init(5, 5, 1), "Error: need MAIL command"))
        }
        guard !transaction.recipients.isEmpty else {
            return error(reply: SMTPReply(503, .init(5, 5, 1), "Error: need RCPT command"))
        }
        phase = .receivingData(transaction)
        return [
            .send(SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")),
            .receiveData(sizeLimit: configuration.maxMessageSize),
        ]
    }

    private mutating func dataReceived(_ findings: DataDecoder.Findings) -> [Action] {
        guard case .receivingData(let transaction) = phase else { return [] }
        let refusal: SMTPReply? =
            if findings.exceededSizeLimit {
                SMTPReply(552, .init(5, 3, 4), "Message size exceeds fixed limit of \(configuration.maxMessageSize) octets")
            } else if findings.sawBareLF || findings.sawBareCR {
                // Postfix's smtpd_forbid_bare_newline: refuse rather than guess where a line ends.
                SMTPReply(550, .init(5, 5, 2), "Error: bare <CR> or <LF> received; lines must end with <CR><LF>")
            } else if findings.sawNUL {
                SMTPReply(554, .init(5, 6, 0), "Error: message contains NUL characters")
            } else {
                // Lines over 998 octets are accepted, as Postfix accepts them: refusing them would turn mail
                // that worked through Postfix into permanent failures at the sending application.
                nil
            }
        if let refusal {
            phase = .idle
            return [.send(refusal)]
        }
        phase = .committing(transaction)
        return [.commit(transaction, heloName: heloName ?? "")]
    }

    private mutating func error(_ parseError: SMTPCommandError) -> [Action] {
        let reply: SMTPReply =
            switch parseError {
            case .unrecognized: SMTPReply(500, .init(5, 5, 1), "Error: command not recognized")
            case .lineTooLong: SMTPReply(500, .init(5, 5, 2), "Error: line too long")
            case .containsNUL: SMTPReply(501, .init(5, 5, 2), "Error: NUL character in command")
            case .syntax(let why): SMTPReply(501, .init(5, 5, 4), "Syntax: \(why)")
            case .invalidSender(let why): SMTPReply(501, .init(5, 1, 7), "Bad sender address syntax (\(why))")
            case .invalidRecipient(let why): SMTPReply(501, .init(5, 1, 3), "Bad recipient address syntax (\(why))")
            case .unknownParameter(let name): SMTPReply(555, .init(5, 5, 4), "Unsupported parameter \(Self.printable(name))")
            case .invalidParameterValue(let name): SMTPReply(501, .init(5, 5, 4), "Bad \(name) parameter value")
            }
        return error(reply: reply)
    }

    private static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Client text echoed in a reply: printable ASCII only, and short, so a reply line stays one safe line.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(64).map { (33...126).contains($0.value) ? $0 : "?" }))
    }

    /// Counts an error; past the limit the session ends with 421, as Postfix's smtpd_hard_error_limit does.
    private mutating func error(reply: SMTPReply) -> [Action] {
        errorCount += 1
        if errorCount >= configuration.maxErrors {
            phase = .closed
            return [.send(reply), .send(SMTPReply(421, .init(4, 7, 0), "\(configuration.hostname) Error: too many errors")), .close]
        }
        return [.send(reply)]
    }
}

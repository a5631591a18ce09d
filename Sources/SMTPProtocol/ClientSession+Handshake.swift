/// EHLO (with the HELO fallback), STARTTLS and AUTH: everything between the greeting and the first `.ready`.
extension ClientSession {
    /// Where a SASL exchange is (RFC 4954 §4).
    enum AuthenticationStep: Sendable {
        /// `AUTH PLAIN <initial response>` sent; 235 expected.
        case plain
        /// `AUTH LOGIN` sent; the 334 "Username:" challenge expected.
        case loginUsername
        /// The username sent; the 334 "Password:" challenge expected.
        case loginPassword
        /// The password sent; 235 expected.
        case loginResult
    }

    /// HELO cannot do STARTTLS or AUTH, so it is a fallback only when neither is needed.
    private var heloFallbackAllowed: Bool {
        configuration.security != .startTLS && configuration.credentials == nil
    }

    mutating func ehloReplied(_ reply: SMTPReply) -> [Action] {
        if reply.isPositive { return negotiated(ServerCapabilities(ehloReply: reply)) }
        // RFC 5321 §3.2: a server that does not accept EHLO answers 5xx (500, 502, 504, 550); the client may then
        // fall back to HELO. A 4xx is a deferral, not an old server.
        guard reply.isPermanent, heloFallbackAllowed else { return fail(.ehloRefused(reply)) }
        phase = .helo
        return send("HELO \(configuration.heloName)")
    }

    /// The server's capabilities are known: upgrade to TLS, authenticate, or be ready.
    mutating func negotiated(_ offered: ServerCapabilities) -> [Action] {
        capabilities = offered
        if configuration.security == .startTLS, !isSecure {
            guard offered.startTLS else { return fail(.startTLSNotOffered) }
            phase = .startTLS
            return send("STARTTLS")
        }
        guard let credentials = configuration.credentials else { return becomeReady() }
        guard isSecure || configuration.allowPlaintextAuthentication else { return fail(.credentialsRequireTLS) }
        switch SASLMechanism.preferred(among: offered.authMechanisms) {
        case .plain:
            // RFC 4954 §4: the initial response saves a round trip.
            phase = .authenticating(.plain)
            return send("AUTH PLAIN \(credentials.plainInitialResponse)")
        case .login:
            phase = .authenticating(.loginUsername)
            return send("AUTH LOGIN")
        case nil:
            return fail(.authenticationNotOffered)
        }
    }

    mutating func tlsEstablished() -> [Action] {
        guard case .handshaking = phase else { return misuse("tlsEstablished", "TLS reported without STARTTLS's 220") }
        // RFC 3207 §4.2: forget everything learnt before TLS and ask again.
        isSecure = true
        capabilities = nil
        phase = .ehlo
        return send("EHLO \(configuration.heloName)")
    }

    mutating func authenticationReplied(_ reply: SMTPReply, step: AuthenticationStep) -> [Action] {
        // 4xx (454) and 5xx (535, 534, 538) both end here: the driver defers either way, and a 5xx is a
        // configuration error for the operator, not a verdict on the message.
        if reply.isTransient || reply.isPermanent { return fail(.authenticationFailed(reply)) }
        guard let credentials = configuration.credentials else {
            return misuse("replyReceived", "authenticating without credentials")
        }
        switch step {
        case .plain, .loginResult:
            guard reply.isPositive else { return fail(.unexpectedReply(reply, command: "AUTH")) }
            return becomeReady()
        case .loginUsername:
            guard reply.code == 334 else { return fail(.unexpectedReply(reply, command: "AUTH LOGIN")) }
            phase = .authenticating(.loginPassword)
            return send(credentials.loginUsername)
        case .loginPassword:
            guard reply.code == 334 else { return fail(.unexpectedReply(reply, command: "AUTH LOGIN (username)")) }
            phase = .authenticating(.loginResult)
            return send(credentials.loginPassword)
        }
    }
}

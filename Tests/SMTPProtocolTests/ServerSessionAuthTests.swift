import SMTPProtocol
import Testing

private let ehlo = Steps.ehlo, mail = Steps.mail, rcpt = Steps.rcpt, data = Steps.data, end = Steps.end

// base64 of "\0user\0secret", "user" and "secret".
private let plainResponse = "AHVzZXIAc2VjcmV0"
private let userB64 = "dXNlcg==", secretB64 = "c2VjcmV0"

private let verifyUser: Transcript.Step = (command("AUTH PLAIN \(plainResponse)"), ["verify(user:secret)"])
private func authenticated(_ domains: [String] = []) -> Transcript.Step {
    (.authenticated(user: "user", senderDomains: domains), ["235 2.7.0"])
}

private let success = SMTPReply(235, EnhancedStatusCode(2, 7, 0), "Authentication successful")
private let failed = SMTPReply(535, EnhancedStatusCode(5, 7, 8), "Error: authentication failed")
private let aborted = SMTPReply(501, EnhancedStatusCode(5, 0, 0), "Authentication aborted")
private let undecodable = SMTPReply(501, EnhancedStatusCode(5, 5, 2), "Cannot decode response")
private let unsupported = SMTPReply(504, EnhancedStatusCode(5, 5, 4), "Unsupported authentication mechanism")
private let needsEncryption = SMTPReply(538, EnhancedStatusCode(5, 7, 11), "Encryption required for requested authentication mechanism")
private let notImplemented = SMTPReply(502, EnhancedStatusCode(5, 5, 1), "Error: command not implemented")
private let sendHeloFirst = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Error: send HELO/EHLO first")
private let alreadyAuthenticated = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Error: already authenticated")
private let inTransaction = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Error: MAIL transaction in progress")
private let authRequired = SMTPReply(530, EnhancedStatusCode(5, 7, 0), "Authentication required")
private let mustStartTLS = SMTPReply(530, EnhancedStatusCode(5, 7, 0), "Must issue a STARTTLS command first")
private let lineTooLong = SMTPReply(500, EnhancedStatusCode(5, 5, 2), "Error: line too long")
private let stillVerifying = SMTPReply(451, EnhancedStatusCode(4, 5, 0), "Error: authentication is still being verified")
private let notForThisRelay = SMTPReply(553, EnhancedStatusCode(5, 7, 1), "Sender address rejected: not allowed for this relay")
private let notOwnedByUser = SMTPReply(553, EnhancedStatusCode(5, 7, 1), "Sender address rejected: not owned by user user")
private let mailOk = SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Ok")
private let rcptOk = SMTPReply(250, EnhancedStatusCode(2, 1, 5), "Ok")
private let noopOk = SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok")
private let usernameChallenge = SMTPReply(334, nil, "VXNlcm5hbWU6")
private let passwordChallenge = SMTPReply(334, nil, "UGFzc3dvcmQ6")
private let emptyChallenge = SMTPReply(334, nil, "")

private let verify: [ServerSession.Action] = [.verifyCredentials(username: "user", password: "secret")]

private let withoutAuth = ["mx.example", "PIPELINING", "SIZE 1000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
private let withAuth = ["mx.example", "PIPELINING", "SIZE 1000", "AUTH PLAIN LOGIN", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
private let withStartTLS = ["mx.example", "PIPELINING", "SIZE 1000", "STARTTLS", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
private let withBoth = [
    "mx.example", "PIPELINING", "SIZE 1000", "STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8",
]

private extension ServerSession.Configuration {
    /// AUTH under `policy`, over implicit TLS unless `tls` is false.
    static func auth(
        _ policy: AuthPolicy = .offered, tls: Bool = true, withoutTLS: Bool = false, startTLS: StartTLSPolicy = .unavailable,
        relay: Bool = true, senders: [String] = []
    ) -> Self {
        .standard.with {
            $0.auth = policy
            $0.tlsActive = tls
            $0.authWithoutTLS = withoutTLS
            $0.startTLS = startTLS
            $0.relayAllowed = relay
            $0.allowedSenderDomains = senders
        }
    }
}

/// A connected session that has said EHLO.
private func greeted(_ configuration: ServerSession.Configuration = .auth()) -> ServerSession {
    var session = ServerSession(configuration: configuration)
    _ = session.handle(.connected)
    _ = session.handle(command("EHLO client.example"))
    return session
}

/// A greeted session logged in as "user" with these sender domains.
private func loggedIn(_ configuration: ServerSession.Configuration = .auth(), domains: [String] = []) -> ServerSession {
    var session = greeted(configuration)
    _ = session.handle(command("AUTH PLAIN \(plainResponse)"))
    _ = session.handle(.authenticated(user: "user", senderDomains: domains))
    return session
}

private func ehloLines(_ session: inout ServerSession) -> [String]? {
    guard case .send(let reply) = session.handle(command("EHLO client.example")).first else { return nil }
    return reply.lines
}

@Suite("ServerSession AUTH")
struct ServerSessionAuthTests {
    // MARK: Configuration and advertising

    @Test("the configuration defaults to no AUTH and no sender policy, so existing call sites keep their behaviour")
    func configurationDefaults() {
        let configuration = ServerSession.Configuration(hostname: "mx.example", maxMessageSize: 1000, maxRecipients: 3, relayAllowed: true)
        #expect(configuration.auth == .unavailable)
        #expect(!configuration.authWithoutTLS)
        #expect(configuration.allowedSenderDomains.isEmpty)
        #expect(ServerSession(configuration: configuration).authenticatedUser == nil)
        let explicit = ServerSession.Configuration(
            hostname: "mx.example", maxMessageSize: 1000, maxRecipients: 3, relayAllowed: true, startTLS: .offered, tlsActive: false,
            auth: .required, authWithoutTLS: true, allowedSenderDomains: ["client.example"])
        #expect(explicit.auth == .required)
        #expect(explicit.authWithoutTLS)
        #expect(explicit.allowedSenderDomains == ["client.example"])
    }

    @Test("EHLO lists AUTH PLAIN LOGIN after STARTTLS and before 8BITMIME, only when it may be used", arguments: [
        (ServerSession.Configuration.auth(.unavailable), withoutAuth),
        (.auth(.unavailable, tls: false, withoutTLS: true), withoutAuth),
        (.auth(.offered), withAuth),
        (.auth(.required), withAuth),
        (.auth(.offered, tls: false), withoutAuth),
        (.auth(.required, tls: false), withoutAuth),
        (.auth(.offered, tls: false, withoutTLS: true), withAuth),
        (.auth(.required, tls: false, withoutTLS: true), withAuth),
        (.auth(.offered, tls: false, startTLS: .offered), withStartTLS),
        (.auth(.offered, tls: false, withoutTLS: true, startTLS: .offered), withBoth),
        (.auth(.offered, tls: true, startTLS: .required), withAuth),
    ])
    func ehloAdvertisesAuth(configuration: ServerSession.Configuration, lines: [String]) {
        var session = ServerSession(configuration: configuration)
        _ = session.handle(.connected)
        #expect(session.handle(command("EHLO client.example")) == [.send(SMTPReply(250, nil, lines: lines))])
    }

    @Test("the advertised AUTH line on the wire")
    func ehloWireBytes() {
        var session = ServerSession(configuration: .auth(tls: false, withoutTLS: true, startTLS: .offered))
        _ = session.handle(.connected)
        guard case .send(let reply) = session.handle(command("EHLO client.example")).first else {
            Issue.record("EHLO sent no reply")
            return
        }
        #expect(reply.wireBytes == bytes(
            "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n"
                + "250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n"))
    }

    @Test("AUTH is advertised once STARTTLS has made the connection secure")
    func advertisedAfterStartTLS() {
        var session = greeted(.auth(tls: false, startTLS: .offered))
        #expect(session.handle(command("STARTTLS")).count == 2)
        #expect(session.handle(.tlsEstablished) == [])
        #expect(ehloLines(&session) == withAuth)
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == verify)
    }

    @Test("once authenticated, neither EHLO nor HELP lists AUTH")
    func notAdvertisedAfterAuthentication() {
        var session = loggedIn()
        #expect(ehloLines(&session) == withoutAuth)
        #expect(session.handle(command("HELP")) == [.send(SMTPReply(214, EnhancedStatusCode(2, 0, 0), "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"))])
    }

    @Test("HELP lists AUTH under the same condition as EHLO, after STARTTLS", arguments: [
        (ServerSession.Configuration.auth(.unavailable), "EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"),
        (.auth(.offered), "EHLO HELO AUTH MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"),
        (.auth(.required), "EHLO HELO AUTH MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"),
        (.auth(.offered, tls: false), "EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"),
        (.auth(.offered, tls: false, startTLS: .offered), "EHLO HELO STARTTLS MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"),
        (.auth(.offered, tls: false, withoutTLS: true, startTLS: .offered),
         "EHLO HELO STARTTLS AUTH MAIL RCPT DATA RSET NOOP QUIT VRFY HELP"),
    ])
    func helpListsAuth(configuration: ServerSession.Configuration, commands: String) {
        var session = greeted(configuration)
        #expect(session.handle(command("HELP")) == [.send(SMTPReply(214, EnhancedStatusCode(2, 0, 0), "Commands: \(commands)"))])
    }

    // MARK: PLAIN

    @Test("AUTH PLAIN with an initial response asks for verification, and 235 2.7.0 follows .authenticated")
    func plainWithInitialResponse() {
        var session = greeted()
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == verify)
        #expect(session.authenticatedUser == nil, "not before the verdict")
        #expect(session.handle(.authenticated(user: "user", senderDomains: [])) == [.send(success)])
        #expect(session.authenticatedUser == "user")
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mailOk)])
    }

    @Test("AUTH PLAIN without an initial response gets an empty 334 and takes the next line as the response")
    func plainWithoutInitialResponse() {
        var session = greeted()
        let actions = session.handle(command("AUTH PLAIN"))
        #expect(actions == [.send(emptyChallenge)])
        if case .send(let reply)? = actions.first { #expect(reply.wireBytes == bytes("334 \r\n")) }
        #expect(session.handle(command(plainResponse)) == verify)
        #expect(session.handle(.authenticated(user: "user", senderDomains: [])) == [.send(success)])
    }

    @Test("mechanism names are case-insensitive; the response is passed on exactly", arguments: [
        ("auth plain \(plainResponse)", "user", "secret"),
        ("AUTH Plain AFrDvHJpY2gAcMOkc3M=", "Zürich", "päss"),
        ("AUTH PLAIN AHVzZXIAc2VjIHJldA==", "user", "sec ret"),
        // An authorization identity equal to the authentication identity is no request to act for someone else.
        ("AUTH PLAIN dXNlcgB1c2VyAHNlY3JldA==", "user", "secret"),
    ])
    func plainVariants(line: String, username: String, password: String) {
        var session = greeted()
        #expect(session.handle(command(line)) == [.verifyCredentials(username: username, password: password)])
    }

    @Test("PLAIN naming another authorization identity gets 535 5.7.8 without verification", arguments: [
        ["AUTH PLAIN YWRtaW4AdXNlcgBzZWNyZXQ="],
        ["AUTH PLAIN", "YWRtaW4AdXNlcgBzZWNyZXQ="],
    ])
    func plainAuthorizationMismatch(lines: [String]) {
        var session = greeted()
        var actions: [ServerSession.Action] = []
        for line in lines { actions = session.handle(command(line)) }
        #expect(actions == [.send(failed)])
        #expect(session.authenticatedUser == nil)
        #expect(session.handle(command("NOOP")) == [.send(noopOk)], "the exchange is over")
    }

    // MARK: LOGIN

    @Test("AUTH LOGIN asks for the username, then the password, then verification")
    func loginWithoutInitialResponse() {
        var session = greeted()
        let first = session.handle(command("AUTH LOGIN"))
        #expect(first == [.send(usernameChallenge)])
        if case .send(let reply)? = first.first { #expect(reply.wireBytes == bytes("334 VXNlcm5hbWU6\r\n")) }
        let second = session.handle(command(userB64))
        #expect(second == [.send(passwordChallenge)])
        if case .send(let reply)? = second.first { #expect(reply.wireBytes == bytes("334 UGFzc3dvcmQ6\r\n")) }
        #expect(session.handle(command(secretB64)) == verify)
        #expect(session.handle(.authenticated(user: "user", senderDomains: [])) == [.send(success)])
        #expect(session.authenticatedUser == "user")
    }

    @Test("AUTH LOGIN with the username as initial response asks only for the password")
    func loginWithInitialResponse() {
        var session = greeted()
        #expect(session.handle(command("auth login \(userB64)")) == [.send(passwordChallenge)])
        #expect(session.handle(command(secretB64)) == verify)
    }

    // MARK: Abort and undecodable responses

    @Test("* at any challenge aborts with 501 5.0.0 and commands work again", arguments: [
        ["AUTH PLAIN"], ["AUTH LOGIN"], ["AUTH LOGIN", userB64], ["AUTH LOGIN \(userB64)"],
    ])
    func abort(lines: [String]) {
        var session = greeted()
        for line in lines { _ = session.handle(command(line)) }
        #expect(session.handle(command("*")) == [.send(aborted)])
        #expect(session.authenticatedUser == nil)
        #expect(session.handle(command("NOOP")) == [.send(noopOk)])
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == verify, "a new exchange may start")
    }

    @Test("undecodable initial responses get 501 5.5.2", arguments: [
        "AUTH PLAIN not-base64!",
        "AUTH PLAIN AHVzZXIAc2VjcmV0=",  // padding where none belongs
        "AUTH PLAIN dXNlcgB1c2VyAHNlY3JldA",  // padding missing
        "AUTH PLAIN dXNl=gB1",  // padding in the middle
        "AUTH PLAIN =",  // the empty response is no PLAIN message
        "AUTH PLAIN *",  // * answers a challenge; it is no initial response
        "AUTH PLAIN dXNlcnNlY3JldA==",  // no NUL
        "AUTH PLAIN AHVzAGVyAHNlY3JldA==",  // three NULs
        "AUTH PLAIN AHVzZXIA",  // empty password
        "AUTH PLAIN AABzZWNyZXQ=",  // empty username
        "AUTH PLAIN //4=",  // not UTF-8
        "AUTH LOGIN =",  // empty username
        "AUTH LOGIN dXMAZXI=",  // NUL in the username
        "AUTH LOGIN %%%%",
    ])
    func undecodableInitialResponse(line: String) {
        var session = greeted()
        #expect(session.handle(command(line)) == [.send(undecodable)])
        #expect(session.handle(command("NOOP")) == [.send(noopOk)], "the exchange is over")
    }

    @Test("undecodable responses to a challenge get 501 5.5.2", arguments: [
        (["AUTH PLAIN"], "QUIT"),  // valid base64, but not a PLAIN message
        (["AUTH PLAIN"], "MAIL FROM:<a@client.example>"),
        (["AUTH PLAIN"], ""),
        (["AUTH PLAIN"], "="),
        (["AUTH PLAIN"], "AHVzZXIA c2VjcmV0"),
        (["AUTH PLAIN"], "AHVzZXIAc2VjcmV0\0"),
        (["AUTH LOGIN"], "dXNlcg"),
        (["AUTH LOGIN"], ""),
        (["AUTH LOGIN", userB64], "c2VjcmV0=="),
        (["AUTH LOGIN", userB64], ""),
        (["AUTH LOGIN", userB64], "AA=="),  // NUL as the password
    ])
    func undecodableResponse(lines: [String], response: String) {
        var session = greeted()
        for line in lines { _ = session.handle(command(line)) }
        #expect(session.handle(command(response)) == [.send(undecodable)])
        #expect(session.transaction == nil, "a response line is never a command")
        #expect(!session.isClosed)
        #expect(session.handle(command("NOOP")) == [.send(noopOk)], "the exchange is over")
    }

    @Test("a response line is not taken as a command even when it looks like one")
    func responseIsNotCommand() {
        var session = greeted()
        _ = session.handle(command("AUTH LOGIN"))
        // "QUIT" is valid base64 (bytes 41 42 13), so LOGIN takes it as a username and asks for the password.
        #expect(session.handle(command("QUIT")) == [.send(passwordChallenge)])
        #expect(!session.isClosed)
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(undecodable)])
        #expect(session.transaction == nil)
    }

    @Test("a too long line during the exchange gets 500 5.5.2 and ends it", arguments: [
        ServerSession.Event.input(.lineTooLong),
        // Valid base64, but over the command line limit of 998 octets a framer with a larger limit would let through.
        command(String(repeating: "A", count: 1000)),
    ])
    func lineTooLongDuringExchange(event: ServerSession.Event) {
        var session = greeted()
        _ = session.handle(command("AUTH PLAIN"))
        #expect(session.handle(event) == [.send(lineTooLong)])
        #expect(session.handle(command("NOOP")) == [.send(noopOk)])
    }

    // MARK: Refusals

    @Test("an unknown mechanism gets 504 5.5.4", arguments: ["AUTH CRAM-MD5", "AUTH XOAUTH2 dXNlcg==", "AUTH PLAINX", "AUTH LOGIN2 x"])
    func unknownMechanism(line: String) {
        var session = greeted()
        #expect(session.handle(command(line)) == [.send(unsupported)])
        #expect(session.handle(command("NOOP")) == [.send(noopOk)])
    }

    @Test("without TLS and without authWithoutTLS AUTH gets 538 5.7.11", arguments: [AuthPolicy.offered, .required])
    func encryptionRequired(policy: AuthPolicy) {
        var session = greeted(.auth(policy, tls: false, startTLS: .offered))
        for line in ["AUTH PLAIN \(plainResponse)", "AUTH LOGIN", "AUTH CRAM-MD5"] {
            #expect(session.handle(command(line)) == [.send(needsEncryption)])
        }
        #expect(session.handle(command("STARTTLS")).count == 2)
        _ = session.handle(.tlsEstablished)
        _ = session.handle(command("EHLO client.example"))
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == verify)
    }

    @Test("authWithoutTLS lets AUTH work in plain text")
    func authWithoutTLS() {
        var session = greeted(.auth(tls: false, withoutTLS: true))
        #expect(session.handle(command("AUTH LOGIN")) == [.send(usernameChallenge)])
        #expect(session.handle(command(userB64)) == [.send(passwordChallenge)])
        #expect(session.handle(command(secretB64)) == verify)
        #expect(session.handle(.authenticated(user: "user", senderDomains: [])) == [.send(success)])
    }

    @Test("without the policy AUTH stays 502 5.5.1 not implemented", arguments: [false, true])
    func authUnavailable(tls: Bool) {
        var session = greeted(.auth(.unavailable, tls: tls, withoutTLS: true))
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == [.send(notImplemented)])
        #expect(session.handle(command("AUTH LOGIN")) == [.send(notImplemented)])
    }

    @Test("AUTH before HELO/EHLO gets 503 5.5.1 send HELO/EHLO first")
    func authBeforeGreeting() {
        var session = ServerSession(configuration: .auth())
        _ = session.handle(.connected)
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == [.send(sendHeloFirst)])
        #expect(session.handle(command("AUTH LOGIN")) == [.send(sendHeloFirst)])
        _ = session.handle(command("HELO client.example"))
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == verify, "HELO is greeting enough")
    }

    @Test("a second AUTH gets 503 5.5.1 already authenticated")
    func alreadyAuthenticatedRefused() {
        var session = loggedIn()
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == [.send(alreadyAuthenticated)])
        #expect(session.handle(command("AUTH LOGIN")) == [.send(alreadyAuthenticated)])
        #expect(session.authenticatedUser == "user")
    }

    @Test("AUTH in a transaction gets 503 5.5.1 and the transaction goes on")
    func authInTransaction() {
        var session = greeted()
        _ = session.handle(command("MAIL FROM:<a@client.example>"))
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == [.send(inTransaction)])
        #expect(session.handle(command("RCPT TO:<b@dest.example>")) == [.send(rcptOk)])
        #expect(session.transaction?.recipients == [Mailbox(localPart: "b", domain: "dest.example")])
        _ = session.handle(command("RSET"))
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == verify)
    }

    // MARK: Verdicts

    @Test(".authenticationFailed gets 535 5.7.8 and leaves the client unauthenticated; it may try again")
    func authenticationFailed() {
        var session = greeted(.auth(.required))
        _ = session.handle(command("AUTH PLAIN \(plainResponse)"))
        #expect(session.handle(.authenticationFailed) == [.send(failed)])
        #expect(session.authenticatedUser == nil)
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(authRequired)])
        #expect(session.handle(command("AUTH LOGIN \(userB64)")) == [.send(passwordChallenge)])
        #expect(session.handle(command(secretB64)) == verify)
        #expect(session.handle(.authenticated(user: "user", senderDomains: [])) == [.send(success)])
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mailOk)])
    }

    @Test("verdicts that were not asked for are ignored", arguments: [
        ServerSession.Event.authenticated(user: "mallory", senderDomains: []), .authenticationFailed,
    ])
    func unaskedVerdicts(verdict: ServerSession.Event) {
        var session = ServerSession(configuration: .auth())
        _ = session.handle(.connected)
        #expect(session.handle(verdict) == [], "before any AUTH")
        _ = session.handle(command("EHLO client.example"))
        #expect(session.handle(verdict) == [], "after EHLO")
        _ = session.handle(command("AUTH LOGIN"))
        #expect(session.handle(verdict) == [], "while a challenge is out")
        #expect(session.handle(command(userB64)) == [.send(passwordChallenge)], "the exchange is undisturbed")
        #expect(session.handle(command(secretB64)) == verify)
        #expect(session.handle(.authenticated(user: "user", senderDomains: [])) == [.send(success)])
        #expect(session.handle(verdict) == [], "a second verdict for one verification")
        #expect(session.authenticatedUser == "user")
    }

    @Test("input while credentials are verified gets 451 4.5.0 and is not run; the verdict still comes")
    func inputWhileVerifying() {
        var session = greeted(.auth(.required))
        _ = session.handle(command("AUTH PLAIN \(plainResponse)"))
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(stillVerifying)])
        #expect(session.handle(.input(.lineTooLong)) == [.send(stillVerifying)])
        #expect(session.transaction == nil)
        #expect(session.handle(.authenticated(user: "user", senderDomains: [])) == [.send(success)])
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mailOk)])
    }

    @Test("a timeout while verifying closes, and a late verdict does nothing")
    func timeoutWhileVerifying() {
        var session = greeted()
        _ = session.handle(command("AUTH PLAIN \(plainResponse)"))
        #expect(session.handle(.timedOut) == [.send(SMTPReply(421, EnhancedStatusCode(4, 4, 2), "mx.example Error: timeout exceeded")), .close])
        #expect(session.handle(.authenticated(user: "user", senderDomains: [])) == [])
        #expect(session.authenticatedUser == nil)
        #expect(session.isClosed)
    }

    @Test("RSET and a new EHLO keep the login; a completed STARTTLS forgets it")
    func whatForgetsTheLogin() {
        var session = loggedIn(.auth(tls: false, withoutTLS: true, startTLS: .offered))
        _ = session.handle(command("RSET"))
        _ = session.handle(command("EHLO client.example"))
        #expect(session.authenticatedUser == "user")
        #expect(session.handle(command("STARTTLS")).count == 2)
        #expect(session.authenticatedUser == "user", "not before the handshake has finished")
        _ = session.handle(.tlsEstablished)
        #expect(session.authenticatedUser == nil)
        #expect(ehloLines(&session) == withAuth)
        #expect(session.handle(command("AUTH PLAIN \(plainResponse)")) == verify)
    }

    @Test("the password never shows in an action's description")
    func verifyDescriptionRedacted() {
        let action = ServerSession.Action.verifyCredentials(username: "user", password: "secret")
        #expect(String(describing: action) == "verifyCredentials(username: user, password: <redacted>)")
        #expect(!String(reflecting: action).contains("secret"))
        #expect(String(describing: ServerSession.Action.send(success)) == "send(235 2.7.0 Authentication successful)")
    }

    // MARK: Error counting

    @Test("every AUTH refusal and 535 counts as an error up to the 421", arguments: [
        Transcript("535s", .auth().with { $0.maxErrors = 3 }, [
            ehlo,
            verifyUser, (.authenticationFailed, ["535 5.7.8"]),
            verifyUser, (.authenticationFailed, ["535 5.7.8"]),
            verifyUser, (.authenticationFailed, ["535 5.7.8", "421 4.7.0", "close"]),
        ]),
        Transcript("aborts, undecodable, mismatch", .auth().with { $0.maxErrors = 4 }, [
            ehlo,
            (command("AUTH LOGIN"), ["334"]), (command("*"), ["501 5.0.0"]),
            (command("AUTH PLAIN"), ["334"]), (command("!!"), ["501 5.5.2"]),
            (command("AUTH PLAIN YWRtaW4AdXNlcgBzZWNyZXQ="), ["535 5.7.8"]),
            (command("AUTH PLAIN ="), ["501 5.5.2", "421 4.7.0", "close"]),
        ]),
        Transcript("538s, before and after EHLO", .auth(tls: false).with { $0.maxErrors = 3 }, [
            (command("AUTH PLAIN"), ["538 5.7.11"]),
            ehlo,
            (command("AUTH CRAM-MD5"), ["538 5.7.11"]),
            (command("AUTH"), ["501 5.5.4", "421 4.7.0", "close"]),
        ]),
        Transcript("503s and 504", .auth().with { $0.maxErrors = 4 }, [
            (command("AUTH PLAIN"), ["503 5.5.1"]),
            ehlo,
            (command("AUTH CRAM-MD5"), ["504 5.5.4"]),
            verifyUser, authenticated(),
            (command("AUTH LOGIN"), ["503 5.5.1"]),
            mail,
            (command("AUTH LOGIN"), ["503 5.5.1", "421 4.7.0", "close"]),
        ]),
        Transcript("the line limit in the exchange", .auth().with { $0.maxErrors = 2 }, [
            ehlo,
            (command("AUTH PLAIN"), ["334"]), (.input(.lineTooLong), ["500 5.5.2"]),
            (command("AUTH PLAIN"), ["334"]), (.input(.lineTooLong), ["500 5.5.2", "421 4.7.0", "close"]),
        ]),
        Transcript("a success and challenges are no errors", .auth().with { $0.maxErrors = 2 }, [
            ehlo,
            (command("XYZZY"), ["500 5.5.1"]),
            (command("AUTH LOGIN"), ["334"]), (command(userB64), ["334"]), (command(secretB64), ["verify(user:secret)"]),
            authenticated(),
            mail, rcpt, data, end,
        ]),
    ])
    func errorsCount(_ transcript: Transcript) {
        transcript.run()
    }

    // MARK: Required

    @Test("required: MAIL before AUTH gets 530 5.7.0 Authentication required, the null sender too")
    func requiredRefusesMail() {
        var session = greeted(.auth(.required))
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(authRequired)])
        #expect(session.handle(command("MAIL FROM:<>")) == [.send(authRequired)])
        #expect(session.transaction == nil)
        _ = session.handle(command("AUTH PLAIN \(plainResponse)"))
        _ = session.handle(.authenticated(user: "user", senderDomains: []))
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mailOk)])
    }

    @Test("required: the greeting comes first, then STARTTLS, then AUTH")
    func requiredOrder() {
        var fresh = ServerSession(configuration: .auth(.required))
        _ = fresh.handle(.connected)
        #expect(fresh.handle(command("MAIL FROM:<a@client.example>")) == [.send(sendHeloFirst)])

        var session = greeted(.auth(.required, tls: false, withoutTLS: true, startTLS: .required))
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mustStartTLS)])
        _ = session.handle(command("AUTH PLAIN \(plainResponse)"))
        _ = session.handle(.authenticated(user: "user", senderDomains: []))
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mustStartTLS)], "AUTH is no substitute for TLS")
    }

    @Test("required: the 530s count as errors", arguments: [
        Transcript("530 Authentication required", .auth(.required).with { $0.maxErrors = 2 }, [
            ehlo,
            (command("MAIL FROM:<a@client.example>"), ["530 5.7.0"]),
            (command("MAIL FROM:<>"), ["530 5.7.0", "421 4.7.0", "close"]),
        ]),
        Transcript("offered does not require", .auth(.offered), [ehlo, mail, rcpt, data]),
    ])
    func requiredDialogues(_ transcript: Transcript) {
        transcript.run()
    }

    // MARK: Relaying

    @Test("an authenticated client may relay from outside the allowed networks")
    func relayAfterAuthentication() {
        var session = greeted(.auth(relay: false))
        _ = session.handle(command("MAIL FROM:<a@client.example>"))
        #expect(session.handle(command("RCPT TO:<b@dest.example>")) == [
            .send(SMTPReply(554, EnhancedStatusCode(5, 7, 1), "<b@dest.example>: Relay access denied")),
        ])
        _ = session.handle(command("RSET"))
        _ = session.handle(command("AUTH PLAIN \(plainResponse)"))
        _ = session.handle(.authenticated(user: "user", senderDomains: []))
        _ = session.handle(command("MAIL FROM:<a@client.example>"))
        #expect(session.handle(command("RCPT TO:<b@dest.example>")) == [.send(rcptOk)])
        _ = session.handle(command("DATA"))
        var expected = MailTransaction(sender: .mailbox(Mailbox(localPart: "a", domain: "client.example")), parameters: MailParameters())
        expected.recipients = [Mailbox(localPart: "b", domain: "dest.example")]
        #expect(session.handle(dataEnd()) == [.commit(expected, heloName: "client.example")])
    }

    @Test("relaying dialogues", arguments: [
        Transcript("denied without AUTH", .auth(relay: false), [
            ehlo, mail, (command("RCPT TO:<b@dest.example>"), ["554 5.7.1"]),
        ]),
        Transcript("allowed after AUTH", .auth(relay: false), [
            ehlo, verifyUser, authenticated(), mail, rcpt, data, end, Steps.committed("Q1"),
        ]),
        Transcript("a failed AUTH allows nothing", .auth(relay: false), [
            ehlo, verifyUser, (.authenticationFailed, ["535 5.7.8"]), mail, (command("RCPT TO:<b@dest.example>"), ["554 5.7.1"]),
        ]),
    ])
    func relayDialogues(_ transcript: Transcript) {
        transcript.run()
    }

    // MARK: Sender policy

    @Test("the global sender list: exact domains, case-insensitive, the null sender always allowed", arguments: [
        ("a@client.example", true),
        ("A@CLIENT.Example", true),
        ("a@other.example", false),
        ("a@sub.client.example", false),
        ("a@example", false),
        ("a@client.example.evil", false),
        ("a@[192.0.2.1]", false),
        ("a@[IPv6:2001:db8::1]", false),
        // A Kelvin sign is not a "k" even though Unicode lower-cases it to one.
        ("a@\u{212A}.example SMTPUTF8", false),
        ("", true),
    ])
    func globalSenderList(sender: String, allowed: Bool) {
        var session = greeted(.auth(senders: ["client.example", "k.example"]))
        let (path, parameters) = sender.split(separator: " ").first.map { (String($0), sender.dropFirst($0.count)) } ?? ("", "")
        #expect(session.handle(command("MAIL FROM:<\(path)>\(parameters)")) == [.send(allowed ? mailOk : notForThisRelay)])
    }

    @Test("the global sender list applies to unauthenticated clients and to users without their own list", arguments: [false, true])
    func globalSenderListWithoutUserList(authenticated: Bool) {
        var session = authenticated ? loggedIn(.auth(senders: ["client.example"])) : greeted(.auth(senders: ["client.example"]))
        #expect(session.handle(command("MAIL FROM:<a@other.example>")) == [.send(notForThisRelay)])
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mailOk)])
    }

    @Test("a user's own sender domains replace the global list", arguments: [
        ("a@user.example", true),
        ("a@USER.example", true),
        ("a@second.example", true),
        ("a@client.example", false),
        ("a@sub.user.example", false),
        ("a@[192.0.2.1]", false),
        ("", true),
    ])
    func perUserSenderList(sender: String, allowed: Bool) {
        var session = loggedIn(.auth(senders: ["client.example"]), domains: ["user.example", "Second.Example"])
        #expect(session.handle(command("MAIL FROM:<\(sender)>")) == [.send(allowed ? mailOk : notOwnedByUser)])
    }

    @Test("a user's own list applies without a global one, and the refusal names the user printably")
    func perUserWithoutGlobal() {
        var session = greeted()
        // base64 of "\0jane doe\0secret"
        _ = session.handle(command("AUTH PLAIN AGphbmUgZG9lAHNlY3JldA=="))
        #expect(session.handle(.authenticated(user: "jane doe", senderDomains: ["user.example"])) == [.send(success)])
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [
            .send(SMTPReply(553, EnhancedStatusCode(5, 7, 1), "Sender address rejected: not owned by user jane?doe")),
        ])
        #expect(session.handle(command("MAIL FROM:<a@user.example>")) == [.send(mailOk)])
    }

    @Test("without any list every sender goes")
    func noSenderPolicy() {
        var session = loggedIn()
        #expect(session.handle(command("MAIL FROM:<a@anything.example>")) == [.send(mailOk)])
    }

    @Test("the sender check comes after the AUTH and TLS checks and before SIZE, and counts as an error", arguments: [
        Transcript("order", .auth(.required, senders: ["client.example"]), [
            ehlo,
            (command("MAIL FROM:<a@other.example> SIZE=5000"), ["530 5.7.0"]),
            verifyUser, authenticated(),
            (command("MAIL FROM:<a@other.example> SIZE=5000"), ["553 5.7.1"]),
            (command("MAIL FROM:<a@client.example> SIZE=5000"), ["552 5.3.4"]),
            mail,
        ]),
        Transcript("STARTTLS first", .auth(.offered, tls: false, startTLS: .required, senders: ["client.example"]), [
            ehlo, (command("MAIL FROM:<a@other.example>"), ["530 5.7.0"]),
        ]),
        Transcript("553s count", .auth(senders: ["client.example"]).with { $0.maxErrors = 2 }, [
            ehlo,
            (command("MAIL FROM:<a@other.example>"), ["553 5.7.1"]),
            (command("MAIL FROM:<a@[192.0.2.1]>"), ["553 5.7.1", "421 4.7.0", "close"]),
        ]),
        Transcript("per-user 553s count", .auth().with { $0.maxErrors = 2 }, [
            ehlo, verifyUser, authenticated(["user.example"]),
            (command("MAIL FROM:<a@other.example>"), ["553 5.7.1"]),
            (command("MAIL FROM:<a@other.example>"), ["553 5.7.1", "421 4.7.0", "close"]),
        ]),
    ])
    func senderPolicyDialogues(_ transcript: Transcript) {
        transcript.run()
    }

    // MARK: MAIL's AUTH= parameter

    @Test("MAIL's AUTH= parameter (RFC 4954 §5) is accepted and dropped", arguments: ["AUTH=<>", "AUTH=user+40client.example"])
    func mailAuthParameter(parameter: String) {
        var session = loggedIn()
        #expect(session.handle(command("MAIL FROM:<a@client.example> \(parameter)")) == [.send(mailOk)])
        #expect(session.transaction?.parameters == MailParameters())
    }
}

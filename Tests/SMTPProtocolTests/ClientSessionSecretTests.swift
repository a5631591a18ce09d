import SMTPProtocol
import Testing

/// The password must never appear in text meant for people: descriptions, dumps, logged actions and failures.
@Suite("Secrets stay out of log text")
struct ClientSessionSecretTests {
    static let password = "s3cr3t-Pa55"
    static let credentials = SASLCredentials(username: "apikey", password: password)
    /// What the password looks like on the wire, in LOGIN and inside PLAIN.
    static let encodedForms = ["czNjcjN0LVBhNTU=", "AGFwaWtleQBzM2NyM3QtUGE1NQ=="]

    static func isClean(_ text: String) -> Bool {
        !text.contains(password) && !encodedForms.contains { text.contains($0) }
    }

    @Test("credentials describe themselves without the password")
    func credentialsDescription() {
        #expect(Self.credentials.description == "SASLCredentials(username: apikey, password: <redacted>)")
        #expect(Self.isClean(String(describing: Self.credentials)))
        #expect(Self.isClean(String(reflecting: Self.credentials)))
        var dumped = ""
        dump(Self.credentials, to: &dumped)
        #expect(Self.isClean(dumped))
        #expect(dumped.contains("apikey"))
        let configuration = ClientSession.Configuration(
            heloName: "relay.example", security: .startTLS, credentials: Self.credentials, allowPlaintextAuthentication: false)
        #expect(Self.isClean(String(describing: configuration)))
        #expect(Self.isClean(String(reflecting: configuration)))
        var dumpedConfiguration = ""
        dump(configuration, to: &dumpedConfiguration)
        #expect(Self.isClean(dumpedConfiguration))
    }

    /// Plays PLAIN and LOGIN dialogues and returns every action the client produced.
    static func actions(offering mechanism: String) -> [ClientSession.Action] {
        var session = ClientSession(configuration: ClientSession.Configuration(
            heloName: "relay.example", security: .implicitTLS, credentials: credentials, allowPlaintextAuthentication: false))
        var actions = session.handle(.connected)
        actions += session.handle(.replyReceived(SMTPReply(220, nil, "mx.example")))
        actions += session.handle(.replyReceived(SMTPReply(250, nil, lines: ["mx.example", "AUTH \(mechanism)"])))
        if mechanism == "LOGIN" {
            actions += session.handle(.replyReceived(SMTPReply(334, nil, "VXNlcm5hbWU6")))
            actions += session.handle(.replyReceived(SMTPReply(334, nil, "UGFzc3dvcmQ6")))
        }
        actions += session.handle(.replyReceived(SMTPReply(535, EnhancedStatusCode(5, 7, 8), "authentication failed")))
        return actions
    }

    @Test("logged actions mask AUTH", arguments: ["PLAIN", "LOGIN"])
    func actionDescriptions(mechanism: String) {
        let actions = Self.actions(offering: mechanism)
        // The secret is on the wire, so the test can tell masking from absence.
        let wire = actions.compactMap { if case .send(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }.joined()
        #expect(!Self.isClean(wire))
        let logged = actions.map(\.description)
        #expect(logged.allSatisfy(Self.isClean))
        let expected: [String] =
            mechanism == "PLAIN"
            ? ["send(EHLO relay.example)", "send(AUTH PLAIN <redacted>)"]
            : ["send(EHLO relay.example)", "send(AUTH LOGIN)", "send(<redacted>)", "send(<redacted>)"]
        #expect(Array(logged.dropLast()) == expected)
        #expect(logged.last == "failed(upstream refused the credentials: 535 5.7.8 authentication failed)")
    }

    @Test("ordinary commands are logged as they are, pipelined ones joined")
    func commandDescriptions() {
        let pipelined = ClientSession.Action.send(bytes("MAIL FROM:<a@x.example> SIZE=10\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"))
        #expect(pipelined.description == "send(MAIL FROM:<a@x.example> SIZE=10 | RCPT TO:<b@y.example> | DATA)")
        #expect(ClientSession.Action.send(bytes(".\r\n")).description == "send(.)")
        #expect(ClientSession.Action.send(bytes("STARTTLS\r\n")).description == "send(STARTTLS)")
        #expect(ClientSession.Action.failed(.startTLSNotOffered, inFlight: envelope()).description
            == "failed(upstream does not offer STARTTLS; refusing to send in plaintext; transaction in flight)")
    }

    static let failures: [ClientSessionFailure] = [
        .greetingRefused(SMTPReply(554, EnhancedStatusCode(5, 7, 1), "blocked")),
        .ehloRefused(SMTPReply(502, nil, "no")),
        .startTLSNotOffered,
        .startTLSRefused(SMTPReply(454, EnhancedStatusCode(4, 7, 0), "TLS not available")),
        .plaintextInjection,
        .authenticationNotOffered,
        .authenticationFailed(SMTPReply(535, EnhancedStatusCode(5, 7, 8), "bad")),
        .credentialsRequireTLS,
        .serviceClosing(SMTPReply(421, EnhancedStatusCode(4, 3, 2), "shutting down")),
        .unexpectedReply(SMTPReply(500, nil, "what"), command: "RSET"),
        .malformedReply("no reply code"),
    ]

    @Test("every failure reads as one distinct line", arguments: failures)
    func failureDescription(failure: ClientSessionFailure) {
        let text = failure.description
        #expect(!text.isEmpty && !text.contains("\n") && !text.contains("\r"))
        #expect(Self.failures.filter { $0.description == text }.count == 1)
    }

    @Test("a parser failure becomes malformedReply")
    func parserFailure() {
        #expect(ClientSessionFailure(SMTPReplyParser.Failure.malformed("line too long")) == .malformedReply("line too long"))
    }
}

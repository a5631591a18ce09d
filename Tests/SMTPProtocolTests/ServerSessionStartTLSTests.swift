import SMTPProtocol
import Testing

private let ehlo = Steps.ehlo, mail = Steps.mail, rcpt = Steps.rcpt, data = Steps.data, quit = Steps.quit
private let startTLS: Transcript.Step = (command("STARTTLS"), ["220 2.0.0", "startTLS"])
private let tlsEstablished: Transcript.Step = (.tlsEstablished, [])

private let ready = SMTPReply(220, EnhancedStatusCode(2, 0, 0), "Ready to start TLS")
private let sendHeloFirst = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Error: send HELO/EHLO first")
private let alreadyActive = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Error: TLS already active")
private let inTransaction = SMTPReply(503, EnhancedStatusCode(5, 5, 1), "Error: MAIL transaction in progress")
private let notImplemented = SMTPReply(502, EnhancedStatusCode(5, 5, 1), "Error: command not implemented")
private let mustStartTLS = SMTPReply(530, EnhancedStatusCode(5, 7, 0), "Must issue a STARTTLS command first")
private let mailOk = SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Ok")

private let plainEHLO = ["mx.example", "PIPELINING", "SIZE 1000", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
private let offeringEHLO = ["mx.example", "PIPELINING", "SIZE 1000", "STARTTLS", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8"]
private let plainHelp = SMTPReply(214, EnhancedStatusCode(2, 0, 0), "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP")
private let offeringHelp = SMTPReply(
    214, EnhancedStatusCode(2, 0, 0), "Commands: EHLO HELO STARTTLS MAIL RCPT DATA RSET NOOP QUIT VRFY HELP")

private extension ServerSession.Configuration {
    static func tls(_ policy: StartTLSPolicy, active: Bool = false) -> Self {
        .standard.with { $0.startTLS = policy; $0.tlsActive = active }
    }
}

/// A connected session that has said EHLO.
private func greeted(_ configuration: ServerSession.Configuration) -> ServerSession {
    var session = ServerSession(configuration: configuration)
    _ = session.handle(.connected)
    _ = session.handle(command("EHLO client.example"))
    return session
}

/// A session that has said EHLO, STARTTLS, and finished the handshake, but not yet EHLO again.
private func secured(_ policy: StartTLSPolicy) -> ServerSession {
    var session = greeted(.tls(policy))
    _ = session.handle(command("STARTTLS"))
    _ = session.handle(.tlsEstablished)
    return session
}

private func ehloLines(_ session: inout ServerSession) -> [String]? {
    guard case .send(let reply) = session.handle(command("EHLO client.example")).first else { return nil }
    return reply.lines
}

@Suite("ServerSession STARTTLS")
struct ServerSessionStartTLSTests {
    @Test("the configuration defaults to no STARTTLS and no TLS, so existing call sites keep their behaviour")
    func configurationDefaults() {
        let configuration = ServerSession.Configuration(hostname: "mx.example", maxMessageSize: 1000, maxRecipients: 3, relayAllowed: true)
        #expect(configuration.startTLS == .unavailable)
        #expect(!configuration.tlsActive)
        #expect(!ServerSession(configuration: configuration).isTLSActive)
        let explicit = ServerSession.Configuration(
            hostname: "mx.example", maxMessageSize: 1000, maxRecipients: 3, relayAllowed: true, startTLS: .required, tlsActive: true)
        #expect(explicit.startTLS == .required)
        #expect(explicit.tlsActive)
    }

    @Test("EHLO lists STARTTLS right after SIZE when offered or required, and not otherwise",
          arguments: [(StartTLSPolicy.unavailable, plainEHLO), (.offered, offeringEHLO), (.required, offeringEHLO)])
    func ehloAdvertisesStartTLS(policy: StartTLSPolicy, lines: [String]) {
        var session = ServerSession(configuration: .tls(policy))
        _ = session.handle(.connected)
        #expect(session.handle(command("EHLO client.example")) == [.send(SMTPReply(250, nil, lines: lines))])
    }

    @Test("the advertised STARTTLS line on the wire")
    func ehloWireBytes() {
        var session = ServerSession(configuration: .tls(.offered))
        _ = session.handle(.connected)
        guard case .send(let reply) = session.handle(command("EHLO client.example")).first else {
            Issue.record("EHLO sent no reply")
            return
        }
        #expect(reply.wireBytes == bytes(
            "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-STARTTLS\r\n250-8BITMIME\r\n"
                + "250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n"))
    }

    @Test("HELP lists STARTTLS under the same condition as EHLO", arguments: [
        (ServerSession.Configuration.tls(.unavailable), plainHelp),
        (.tls(.offered), offeringHelp),
        (.tls(.required), offeringHelp),
        (.tls(.offered, active: true), plainHelp),
        (.tls(.required, active: true), plainHelp),
    ])
    func helpListsStartTLS(configuration: ServerSession.Configuration, reply: SMTPReply) {
        var session = greeted(configuration)
        #expect(session.handle(command("HELP")) == [.send(reply)])
    }

    @Test("after the handshake neither EHLO nor HELP lists STARTTLS", arguments: [StartTLSPolicy.offered, .required])
    func noOfferOnceActive(policy: StartTLSPolicy) {
        var session = secured(policy)
        #expect(ehloLines(&session) == plainEHLO)
        #expect(session.handle(command("HELP")) == [.send(plainHelp)])
    }

    @Test("STARTTLS answers 220 2.0.0, asks for the handshake, and forgets the greeting", arguments: [StartTLSPolicy.offered, .required])
    func startTLSAccepted(policy: StartTLSPolicy) {
        var session = greeted(.tls(policy))
        #expect(session.clientName == "client.example")
        #expect(session.usedEHLO)
        #expect(session.handle(command("STARTTLS")) == [.send(ready), .startTLS])
        #expect(session.clientName == nil)
        #expect(!session.usedEHLO)
        #expect(!session.isTLSActive, "not before the handshake has finished")
        #expect(!session.isClosed)
        #expect(session.handle(.tlsEstablished) == [], "no second greeting after the handshake")
        #expect(session.isTLSActive)
        #expect(session.clientName == nil)
    }

    @Test("STARTTLS after HELO is accepted too")
    func startTLSAfterHELO() {
        var session = ServerSession(configuration: .tls(.offered))
        _ = session.handle(.connected)
        _ = session.handle(command("HELO old.example"))
        #expect(session.handle(command("STARTTLS")) == [.send(ready), .startTLS])
        #expect(session.clientName == nil)
    }

    @Test("after the handshake MAIL needs a new EHLO; the new name is the one committed")
    func ehloAgainAfterHandshake() {
        var session = secured(.offered)
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(sendHeloFirst)])
        _ = session.handle(command("EHLO secure.example"))
        #expect(session.clientName == "secure.example")
        #expect(session.usedEHLO)
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mailOk)])
        _ = session.handle(command("RCPT TO:<b@dest.example>"))
        _ = session.handle(command("DATA"))
        var expected = MailTransaction(sender: .mailbox(Mailbox(localPart: "a", domain: "client.example")), parameters: MailParameters())
        expected.recipients = [Mailbox(localPart: "b", domain: "dest.example")]
        #expect(session.handle(dataEnd()) == [.commit(expected, heloName: "secure.example")])
    }

    @Test("a second STARTTLS gets 503 5.5.1 TLS already active", arguments: [StartTLSPolicy.offered, .required])
    func secondStartTLS(policy: StartTLSPolicy) {
        var session = secured(policy)
        _ = session.handle(command("EHLO client.example"))
        #expect(session.handle(command("STARTTLS")) == [.send(alreadyActive)])
        #expect(session.isTLSActive)
        #expect(session.clientName == "client.example", "a refused STARTTLS forgets nothing")
    }

    @Test("STARTTLS with a parameter is a syntax error whatever the policy",
          arguments: [StartTLSPolicy.unavailable, .offered, .required])
    func startTLSWithParameters(policy: StartTLSPolicy) {
        var session = greeted(.tls(policy))
        for line in ["STARTTLS x", "starttls now please"] {
            #expect(session.handle(command(line)) == [.send(SMTPReply(501, EnhancedStatusCode(5, 5, 4), "Syntax: STARTTLS takes no arguments"))])
        }
        #expect(session.clientName == "client.example", "a refused STARTTLS forgets nothing")
        #expect(session.handle(command("STARTTLS ")) == (policy == .unavailable ? [.send(notImplemented)] : [.send(ready), .startTLS]),
                "trailing spaces are not a parameter")
    }

    @Test("without the policy STARTTLS stays 502 5.5.1 not implemented", arguments: [false, true])
    func startTLSUnavailable(tlsActive: Bool) {
        var session = greeted(.tls(.unavailable, active: tlsActive))
        #expect(session.handle(command("STARTTLS")) == [.send(notImplemented)])
        #expect(session.clientName == "client.example")
    }

    @Test("STARTTLS before HELO/EHLO gets 503 5.5.1 send HELO/EHLO first")
    func startTLSBeforeGreeting() {
        var session = ServerSession(configuration: .tls(.offered))
        _ = session.handle(.connected)
        #expect(session.handle(command("STARTTLS")) == [.send(sendHeloFirst)])
        _ = session.handle(command("RSET"))
        #expect(session.handle(command("STARTTLS")) == [.send(sendHeloFirst)], "RSET is no greeting")
        _ = session.handle(command("EHLO client.example"))
        #expect(session.handle(command("STARTTLS")) == [.send(ready), .startTLS])
    }

    @Test("STARTTLS inside a transaction gets 503 5.5.1 and the transaction goes on")
    func startTLSInTransaction() {
        var session = greeted(.tls(.offered))
        _ = session.handle(command("MAIL FROM:<a@client.example>"))
        #expect(session.handle(command("STARTTLS")) == [.send(inTransaction)])
        _ = session.handle(command("RCPT TO:<b@dest.example>"))
        #expect(session.handle(command("STARTTLS")) == [.send(inTransaction)])
        #expect(session.transaction?.recipients == [Mailbox(localPart: "b", domain: "dest.example")])
        #expect(session.clientName == "client.example")
        #expect(session.handle(command("RSET")) == [.send(SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok"))])
        #expect(session.handle(command("STARTTLS")) == [.send(ready), .startTLS], "RSET ended the transaction")
    }

    @Test("required: MAIL before TLS gets 530 5.7.0; after STARTTLS and EHLO it gets 250")
    func requiredRefusesMailUntilTLS() {
        var session = greeted(.tls(.required))
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mustStartTLS)])
        #expect(session.transaction == nil)
        #expect(session.handle(command("MAIL FROM:<>")) == [.send(mustStartTLS)], "the null sender too")
        #expect(session.handle(command("STARTTLS")) == [.send(ready), .startTLS])
        #expect(session.handle(.tlsEstablished) == [])
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(sendHeloFirst)])
        _ = session.handle(command("EHLO client.example"))
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mailOk)])
    }

    @Test("required: the greeting is checked before TLS, as Postfix does")
    func requiredWithoutGreeting() {
        var session = ServerSession(configuration: .tls(.required))
        _ = session.handle(.connected)
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(sendHeloFirst)])
    }

    @Test("required: everything but MAIL works as before TLS", arguments: [
        Transcript("required before TLS", .tls(.required), [
            ehlo,
            (command("MAIL FROM:<a@client.example>"), ["530 5.7.0"]),
            (command("RCPT TO:<b@dest.example>"), ["503 5.5.1"]),
            (command("DATA"), ["503 5.5.1"]),
            (command("NOOP"), ["250 2.0.0"]),
            (command("RSET"), ["250 2.0.0"]),
            (command("HELP"), ["214 2.0.0"]),
            (command("VRFY b"), ["252 2.5.2"]),
            (command("HELO old.example"), ["250"]),
            (command("MAIL FROM:<a@client.example> SIZE=5000"), ["530 5.7.0"]),
            ehlo,
            startTLS, tlsEstablished,
            ehlo, mail, rcpt, data,
        ]),
        Transcript("QUIT without TLS", .tls(.required), [ehlo, (command("MAIL FROM:<a@client.example>"), ["530 5.7.0"]), quit]),
        Transcript("offered does not require", .tls(.offered), [ehlo, mail, rcpt, data]),
    ])
    func requiredDialogues(_ transcript: Transcript) {
        transcript.run()
    }

    @Test("implicit TLS: active from the start, never offers STARTTLS, satisfies required",
          arguments: [StartTLSPolicy.offered, .required])
    func implicitTLS(policy: StartTLSPolicy) {
        var session = ServerSession(configuration: .tls(policy, active: true))
        #expect(session.isTLSActive)
        _ = session.handle(.connected)
        #expect(session.isTLSActive)
        #expect(ehloLines(&session) == plainEHLO)
        #expect(session.handle(command("STARTTLS")) == [.send(alreadyActive)])
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mailOk)])
        #expect(session.handle(.tlsEstablished) == [], "an unasked-for handshake event changes nothing")
        #expect(session.transaction != nil)
    }

    @Test("refusals for STARTTLS and the 530 count as errors", arguments: [
        Transcript("530s", .tls(.required).with { $0.maxErrors = 3 }, [
            ehlo,
            (command("MAIL FROM:<a@client.example>"), ["530 5.7.0"]),
            (command("MAIL FROM:<a@client.example>"), ["530 5.7.0"]),
            (command("MAIL FROM:<a@client.example>"), ["530 5.7.0", "421 4.7.0", "close"]),
        ]),
        Transcript("503 TLS already active", .tls(.offered, active: true).with { $0.maxErrors = 2 }, [
            ehlo,
            (command("STARTTLS"), ["503 5.5.1"]),
            (command("STARTTLS"), ["503 5.5.1", "421 4.7.0", "close"]),
        ]),
        Transcript("503 before greeting and in a transaction", .tls(.offered).with { $0.maxErrors = 3 }, [
            (command("STARTTLS"), ["503 5.5.1"]),
            ehlo, mail,
            (command("STARTTLS"), ["503 5.5.1"]),
            (command("STARTTLS x"), ["501 5.5.4", "421 4.7.0", "close"]),
        ]),
        Transcript("an accepted STARTTLS is no error", .tls(.offered).with { $0.maxErrors = 2 }, [
            (command("XYZZY"), ["500 5.5.1"]),
            ehlo, startTLS, tlsEstablished, ehlo, mail,
        ]),
    ])
    func errorsCount(_ transcript: Transcript) {
        transcript.run()
    }

    @Test("the error limit after 530 sends exactly the 530 then 421")
    func errorLimitText() {
        var session = greeted(.tls(.required).with { $0.maxErrors = 1 })
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [
            .send(mustStartTLS),
            .send(SMTPReply(421, EnhancedStatusCode(4, 7, 0), "mx.example Error: too many errors")),
            .close,
        ])
        #expect(session.isClosed)
    }

    // InboundConnection feeds no input between .startTLS and .tlsEstablished; these pin down what the session
    // does if some arrives anyway: it is plain input after the reset, and none of it survives the handshake.
    @Test("input before the handshake ends is handled as after the reset, and forgotten by it", arguments: [
        Transcript("MAIL without the new EHLO", .tls(.offered), [
            ehlo, startTLS,
            (command("MAIL FROM:<a@client.example>"), ["503 5.5.1"]),
            (command("STARTTLS"), ["503 5.5.1"]),
            tlsEstablished,
            (command("MAIL FROM:<a@client.example>"), ["503 5.5.1"]),
            ehlo, mail,
        ]),
        Transcript("injected EHLO and MAIL", .tls(.offered), [
            ehlo, startTLS,
            ehlo, mail,
            tlsEstablished,
            (command("RCPT TO:<b@dest.example>"), ["503 5.5.1"]),
            (command("MAIL FROM:<a@client.example>"), ["503 5.5.1"]),
            ehlo, mail, rcpt,
        ]),
        Transcript("injected MAIL under required stays refused", .tls(.required), [
            ehlo, startTLS, ehlo,
            (command("MAIL FROM:<a@client.example>"), ["530 5.7.0"]),
            tlsEstablished, ehlo, mail,
        ]),
    ])
    func inputDuringHandshake(_ transcript: Transcript) {
        transcript.run()
    }

    @Test("the injected greeting is not kept as the client's name")
    func injectedGreetingForgotten() {
        var session = greeted(.tls(.offered))
        _ = session.handle(command("STARTTLS"))
        _ = session.handle(command("EHLO evil.example"))
        #expect(session.clientName == "evil.example")
        _ = session.handle(.tlsEstablished)
        #expect(session.clientName == nil)
        #expect(!session.usedEHLO)
    }

    @Test(".tlsEstablished without a pending STARTTLS is ignored", arguments: [StartTLSPolicy.unavailable, .offered, .required])
    func unaskedTLSEstablished(policy: StartTLSPolicy) {
        var session = greeted(.tls(policy))
        #expect(session.handle(.tlsEstablished) == [])
        #expect(!session.isTLSActive)
        #expect(session.clientName == "client.example")
        #expect(ehloLines(&session) == (policy == .unavailable ? plainEHLO : offeringEHLO))
    }

    @Test("a second .tlsEstablished changes nothing")
    func repeatedTLSEstablished() {
        var session = secured(.offered)
        _ = session.handle(command("EHLO client.example"))
        #expect(session.handle(.tlsEstablished) == [])
        #expect(session.clientName == "client.example")
        #expect(session.handle(command("MAIL FROM:<a@client.example>")) == [.send(mailOk)])
    }

    @Test("a timeout during the handshake closes, and a late .tlsEstablished does nothing")
    func timeoutDuringHandshake() {
        var session = greeted(.tls(.offered))
        _ = session.handle(command("STARTTLS"))
        #expect(session.handle(.timedOut) == [.send(SMTPReply(421, EnhancedStatusCode(4, 4, 2), "mx.example Error: timeout exceeded")), .close])
        #expect(session.handle(.tlsEstablished) == [])
        #expect(session.isClosed)
        #expect(!session.isTLSActive)
    }
}

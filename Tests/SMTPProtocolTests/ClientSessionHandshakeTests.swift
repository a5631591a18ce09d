import SMTPProtocol
import Testing

/// Greeting, EHLO/HELO, STARTTLS and AUTH, each test the whole dialogue with the upstream.
@Suite("ClientSession handshake dialogues")
struct ClientSessionHandshakeTests {
    static let dialogues: [ClientDialogue] = [
        ClientDialogue("plain delivery without TLS or AUTH", .plain, [
            (.connect, []),
            ("220 mx.example ESMTP Postfix", ["EHLO relay.example"]),
            ("250-mx.example\n250-AUTH PLAIN\n250 8BITMIME", ["ready"]),  // AUTH offered, no credentials: none sent
            (.start(envelope()), ["MAIL FROM:<a@client.example>"]),
            ("250 2.1.0 Ok", ["RCPT TO:<b@dest.example>"]),
            ("250 2.1.5 Ok", ["DATA"]),
            ("354 End data with <CR><LF>.<CR><LF>", ["sendBody"]),
            ("250 2.0.0 Ok: queued as 4BxYz", ["completed(250 2.0.0)", "ready"]),
            (.quit, ["QUIT"]),
            ("221 2.0.0 Bye", ["close"]),
        ]),
        ClientDialogue("STARTTLS, EHLO again, AUTH PLAIN with an initial response", .startTLSWithAuth, [
            (.connect, []),
            ("220 smtp-relay.brevo.com ESMTP", ["EHLO relay.example"]),
            ("250-smtp-relay.brevo.com\n250-PIPELINING\n250-STARTTLS\n250 8BITMIME", ["STARTTLS"]),
            ("220 2.0.0 Ready to start TLS", ["startTLS"]),
            (.tls, ["EHLO relay.example"]),
            ("250-smtp-relay.brevo.com\n250-PIPELINING\n250 AUTH LOGIN PLAIN", ["AUTH PLAIN AHVzZXIAc2VjcmV0"]),
            ("235 2.7.0 Authentication successful", ["ready"]),
            (.quit, ["QUIT"]),
            ("221 2.0.0 Bye", ["close"]),
        ]),
        ClientDialogue("AUTH LOGIN when PLAIN is not offered", .implicitTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 AUTH LOGIN CRAM-MD5", ["AUTH LOGIN"]),
            ("334 VXNlcm5hbWU6", ["dXNlcg=="]),
            ("334 UGFzc3dvcmQ6", ["c2VjcmV0"]),
            ("235 2.7.0 Authentication successful", ["ready"]),
        ]),
        ClientDialogue("legacy AUTH=LOGIN announcement", .implicitTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 AUTH=LOGIN", ["AUTH LOGIN"]),
            ("334 VXNlcm5hbWU6", ["dXNlcg=="]),
            ("334 UGFzc3dvcmQ6", ["c2VjcmV0"]),
            ("535 5.7.8 Error: authentication failed", ["failed(authenticationFailed 535 5.7.8)"]),
        ]),
        ClientDialogue("STARTTLS refused", .startTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 STARTTLS", ["STARTTLS"]),
            ("454 4.7.0 TLS not available due to local problem", ["failed(startTLSRefused 454 4.7.0)"]),
        ]),
        ClientDialogue("STARTTLS answered with something other than 220", .startTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 STARTTLS", ["STARTTLS"]),
            ("250 2.0.0 Ok", ["failed(startTLSRefused 250 2.0.0)"]),
        ]),
        ClientDialogue("plaintext injected after STARTTLS's 220", .startTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 STARTTLS", ["STARTTLS"]),
            ("220 2.0.0 Ready to start TLS\n250 2.0.0 injected", ["startTLS", "failed(plaintextInjection)"]),
            (.tls, ["failed(unexpectedReply 451 4.3.0 to tlsEstablished)"]),
        ]),
        ClientDialogue("capabilities from before TLS are forgotten", .startTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250-PIPELINING\n250-AUTH PLAIN\n250 STARTTLS", ["STARTTLS"]),
            ("220 2.0.0 Ready", ["startTLS"]),
            (.tls, ["EHLO relay.example"]),
            ("250-mx.example\n250 AUTH LOGIN", ["AUTH LOGIN"]),  // PLAIN was offered only in plaintext
            ("334 VXNlcm5hbWU6", ["dXNlcg=="]),
            ("334 UGFzc3dvcmQ6", ["c2VjcmV0"]),
            ("235 2.7.0 Ok", ["ready"]),
            (.start(envelope()), ["MAIL FROM:<a@client.example>"]),  // no PIPELINING after TLS: lockstep
        ]),
        ClientDialogue("credentials without TLS may be sent when allowed", .plain.with {
            $0.credentials = testCredentials
            $0.allowPlaintextAuthentication = true
        }, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250-STARTTLS\n250 AUTH PLAIN LOGIN", ["AUTH PLAIN AHVzZXIAc2VjcmV0"]),
            ("235 2.7.0 Ok", ["ready"]),
        ]),
        ClientDialogue("454 to AUTH is a failure too (the driver defers)", .implicitTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 AUTH PLAIN", ["AUTH PLAIN AHVzZXIAc2VjcmV0"]),
            ("454 4.7.0 Temporary authentication failure", ["failed(authenticationFailed 454 4.7.0)"]),
        ]),
        ClientDialogue("a challenge to PLAIN with an initial response", .implicitTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 AUTH PLAIN", ["AUTH PLAIN AHVzZXIAc2VjcmV0"]),
            ("334 ", ["failed(unexpectedReply 334 to AUTH)"]),
        ]),
        ClientDialogue("LOGIN answered with 235 before the password", .implicitTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 AUTH LOGIN", ["AUTH LOGIN"]),
            ("334 VXNlcm5hbWU6", ["dXNlcg=="]),
            ("235 2.7.0 Ok", ["failed(unexpectedReply 235 2.7.0 to AUTH LOGIN (username))"]),
        ]),
        ClientDialogue("implicit TLS: no STARTTLS even when offered", .implicitTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250-STARTTLS\n250 AUTH PLAIN", ["AUTH PLAIN AHVzZXIAc2VjcmV0"]),
            ("235 2.7.0 Ok", ["ready"]),
        ]),
        ClientDialogue("no TLS configured: STARTTLS is not used even when offered", .plain, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 STARTTLS", ["ready"]),
        ]),
        ClientDialogue("HELO fallback when EHLO is not recognised", .plain, [
            (.connect, []),
            ("220 old.example SMTP", ["EHLO relay.example"]),
            ("502 5.5.2 Error: command not recognized", ["HELO relay.example"]),
            ("250 old.example", ["ready"]),
            (.start(envelope(eightBit: true)), ["MAIL FROM:<a@client.example>"]),  // no ESMTP parameters after HELO
            ("250 Ok", ["RCPT TO:<b@dest.example>"]),
            ("250 Ok", ["DATA"]),
            ("354 Go ahead", ["sendBody"]),
            ("250 Ok", ["completed(250)", "ready"]),
        ]),
        ClientDialogue("HELO fallback refused too", .plain, [
            (.connect, []),
            ("220 old.example SMTP", ["EHLO relay.example"]),
            ("500 5.5.1 what?", ["HELO relay.example"]),
            ("550 5.7.1 go away", ["failed(ehloRefused 550 5.7.1)"]),
        ]),
        ClientDialogue("no HELO fallback when STARTTLS is required", .startTLSWithAuth, [
            (.connect, []),
            ("220 old.example SMTP", ["EHLO relay.example"]),
            ("502 5.5.2 Error: command not recognized", ["failed(ehloRefused 502 5.5.2)"]),
        ]),
        ClientDialogue("no HELO fallback when credentials are configured", .implicitTLSWithAuth, [
            (.connect, []),
            ("220 old.example SMTP", ["EHLO relay.example"]),
            ("500 5.5.1 what?", ["failed(ehloRefused 500 5.5.1)"]),
        ]),
        ClientDialogue("HELO fallback with implicit TLS and no credentials", .implicitTLSWithAuth.with { $0.credentials = nil }, [
            (.connect, []),
            ("220 old.example SMTP", ["EHLO relay.example"]),
            ("502 what?", ["HELO relay.example"]),
            ("250 old.example", ["ready"]),
        ]),
        ClientDialogue("a temporary EHLO refusal does not fall back to HELO", .plain, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("450 4.7.1 try later", ["failed(ehloRefused 450 4.7.1)"]),
        ]),
        ClientDialogue("EHLO answered with 421", .plain, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("421 4.3.2 Service shutting down", ["failed(serviceClosing 421 4.3.2)"]),
        ]),
        ClientDialogue("greeting 554", .plain, [
            (.connect, []),
            ("554 5.7.1 mx.example: your address is blocked", ["failed(greetingRefused 554 5.7.1)"]),
            ("221 Bye", []),
        ]),
        ClientDialogue("greeting 421", .plain, [
            (.connect, []),
            ("421 4.7.0 mx.example too many connections", ["failed(serviceClosing 421 4.7.0)"]),
        ]),
        ClientDialogue("greeting 450", .plain, [
            (.connect, []),
            ("450 4.3.2 not now", ["failed(greetingRefused 450 4.3.2)"]),
        ]),
        ClientDialogue("multi-line greeting", .plain, [
            (.connect, []),
            ("220-mx.example ESMTP\n220-No UCE\n220 welcome", ["EHLO relay.example"]),
            ("250 mx.example", ["ready"]),
        ]),
        ClientDialogue("idle session told 421", .plain, hello("250 mx.example") + [
            ("421 4.4.2 mx.example Error: timeout exceeded", ["failed(serviceClosing 421 4.4.2)"]),
            (.quit, ["close"]),
        ]),
        ClientDialogue("a reply nobody asked for", .plain, hello("250 mx.example") + [
            ("250 2.0.0 Ok", ["failed(unexpectedReply 250 2.0.0 to nothing (the session was idle))"]),
        ]),
        ClientDialogue("QUIT answered with an error still closes", .plain, hello("250 mx.example") + [
            (.quit, ["QUIT"]),
            (.quit, []),
            ("500 5.5.1 huh", ["close"]),
            ("250 late", []),
        ]),
    ]

    @Test("dialogue", arguments: dialogues)
    func dialogue(_ dialogue: ClientDialogue) {
        dialogue.run()
    }

    /// Each dialogue that fails before the session is ready: what the client sent, in full.
    static let refusals: [(ClientDialogue, sent: [String])] = [
        (ClientDialogue("STARTTLS required but not offered", .startTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250-PIPELINING\n250 AUTH PLAIN LOGIN", ["failed(startTLSNotOffered)"]),
            // A confused driver carries on: nothing more goes out, and the transaction comes back to be deferred.
            ("250 2.0.0 Ok", []),
            (.start(envelope()), ["failed(unexpectedReply 451 4.3.0 to start, inFlight)"]),
            (.tls, ["failed(unexpectedReply 451 4.3.0 to tlsEstablished)"]),
            (.quit, ["close"]),
        ]), sent: ["EHLO relay.example"]),
        (ClientDialogue("credentials without TLS, plaintext not allowed", .plain.with {
            $0.credentials = testCredentials
        }, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 AUTH PLAIN LOGIN", ["failed(credentialsRequireTLS)"]),
            (.start(envelope()), ["failed(unexpectedReply 451 4.3.0 to start, inFlight)"]),
        ]), sent: ["EHLO relay.example"]),
        (ClientDialogue("credentials configured, no usable AUTH offered", .implicitTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 AUTH CRAM-MD5 XOAUTH2", ["failed(authenticationNotOffered)"]),
        ]), sent: ["EHLO relay.example"]),
        (ClientDialogue("credentials configured, AUTH not offered at all", .implicitTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 PIPELINING", ["failed(authenticationNotOffered)"]),
        ]), sent: ["EHLO relay.example"]),
        (ClientDialogue("535 after AUTH PLAIN", .startTLSWithAuth, [
            (.connect, []),
            ("220 mx.example ESMTP", ["EHLO relay.example"]),
            ("250-mx.example\n250 STARTTLS", ["STARTTLS"]),
            ("220 2.0.0 Ready", ["startTLS"]),
            (.tls, ["EHLO relay.example"]),
            ("250-mx.example\n250 AUTH PLAIN", ["AUTH PLAIN AHVzZXIAc2VjcmV0"]),
            ("535 5.7.8 Error: authentication failed: bad key", ["failed(authenticationFailed 535 5.7.8)"]),
            (.start(envelope()), ["failed(unexpectedReply 451 4.3.0 to start, inFlight)"]),
        ]), sent: ["EHLO relay.example", "STARTTLS", "EHLO relay.example", "AUTH PLAIN AHVzZXIAc2VjcmV0"]),
    ]

    @Test("refusals send nothing after the point of failure", arguments: refusals)
    func refusal(_ dialogue: ClientDialogue, sent expected: [String]) {
        let (session, sent) = dialogue.run()
        #expect(sent == expected)
        #expect(!sent.contains { $0.hasPrefix("MAIL") || $0.hasPrefix("RCPT") || $0 == "DATA" })
        #expect(session.isClosed)
    }

    @Test("the failure carries the upstream's reply")
    func failureCarriesReply() {
        var session = ClientSession(configuration: .implicitTLSWithAuth)
        _ = session.handle(.connected)
        _ = session.handle(.replyReceived(SMTPReply(220, nil, "mx.example")))
        _ = session.handle(.replyReceived(SMTPReply(250, nil, lines: ["mx.example", "AUTH PLAIN"])))
        let refusal = SMTPReply(535, EnhancedStatusCode(5, 7, 8), "Error: authentication failed")
        #expect(session.handle(.replyReceived(refusal)) == [.failed(.authenticationFailed(refusal), inFlight: nil)])
    }

    @Test("isSecure: from the start with implicit TLS, after the handshake with STARTTLS, never without TLS")
    func isSecure() {
        #expect(ClientSession(configuration: .implicitTLSWithAuth).isSecure)
        #expect(!ClientSession(configuration: .plain).isSecure)
        var session = ClientSession(configuration: .startTLSWithAuth)
        _ = session.handle(.connected)
        _ = session.handle(.replyReceived(SMTPReply(220, nil, "mx.example")))
        _ = session.handle(.replyReceived(SMTPReply(250, nil, lines: ["mx.example", "STARTTLS"])))
        #expect(!session.isSecure)
        #expect(session.handle(.replyReceived(SMTPReply(220, nil, "go"))) == [.startTLS])
        #expect(!session.isSecure)
        #expect(session.capabilities != nil)
        _ = session.handle(.tlsEstablished)
        #expect(session.isSecure)
        #expect(session.capabilities == nil)
    }

    @Test("ready hands over the capabilities of the last EHLO; HELO gives none")
    func readyCapabilities() {
        var session = ClientSession(configuration: .plain)
        _ = session.handle(.connected)
        _ = session.handle(.replyReceived(SMTPReply(220, nil, "mx.example")))
        let ehlo = SMTPReply(250, nil, lines: ["mx.example", "PIPELINING", "SIZE 1000"])
        #expect(session.handle(.replyReceived(ehlo)) == [.ready(ServerCapabilities(ehloReply: ehlo))])

        var old = ClientSession(configuration: .plain)
        _ = old.handle(.connected)
        _ = old.handle(.replyReceived(SMTPReply(220, nil, "old.example")))
        _ = old.handle(.replyReceived(SMTPReply(502, nil, "no")))
        #expect(old.handle(.replyReceived(SMTPReply(250, nil, "old.example"))) == [.ready(.none)])
    }

    static let misuses: [(String, [ClientSession.Event])] = [
        ("start before the greeting", [.connected, .start(envelope())]),
        ("a reply before connected", [.replyReceived(SMTPReply(220, nil, "mx.example"))]),
        ("connected twice", [.connected, .connected]),
        ("tlsEstablished without STARTTLS", [.connected, .tlsEstablished]),
        ("quit during EHLO", [.connected, .replyReceived(SMTPReply(220, nil, "mx.example")), .quit]),
    ]

    @Test("a misused session fails with a synthesized 451 4.3.0, never traps", arguments: misuses)
    func misuse(_ name: String, _ events: [ClientSession.Event]) {
        var session = ClientSession(configuration: .plain)
        var actions: [ClientSession.Action] = []
        for event in events { actions = session.handle(event) }
        guard case .failed(.unexpectedReply(let reply, _), _)? = actions.first, actions.count == 1 else {
            Issue.record("\(name): \(actions)")
            return
        }
        #expect(reply.code == 451 && reply.enhanced == EnhancedStatusCode(4, 3, 0))
        #expect(session.isClosed)
        #expect(session.handle(.replyReceived(SMTPReply(250, nil, "late"))) == [])
    }
}

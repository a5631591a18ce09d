import SMTPProtocol
import Testing

/// A session that has been greeted and has said EHLO.
private func greetedSession(_ configuration: ServerSession.Configuration = .standard) -> ServerSession {
    var session = ServerSession(configuration: configuration)
    _ = session.handle(.connected)
    _ = session.handle(command("EHLO client.example"))
    return session
}

private func replies(_ actions: [ServerSession.Action]) -> [SMTPReply] {
    actions.compactMap { if case .send(let reply) = $0 { reply } else { nil } }
}

@Suite("ServerSession")
struct ServerSessionTests {
    @Test("the greeting names the host and has no enhanced code")
    func greeting() {
        var session = ServerSession(configuration: .standard)
        #expect(session.handle(.connected) == [.send(SMTPReply(220, nil, "mx.example ESMTP MailRelay"))])
        #expect(!session.isClosed)
        #expect(session.clientName == nil)
    }

    @Test("EHLO advertises exactly our extensions, SIZE from the configuration", arguments: [1000, 10_240_000])
    func ehloKeywords(maxMessageSize: Int) {
        var session = ServerSession(configuration: .standard.with { $0.maxMessageSize = maxMessageSize })
        _ = session.handle(.connected)
        let actions = session.handle(command("EHLO client.example"))
        let expected = SMTPReply(250, nil, lines: [
            "mx.example", "PIPELINING", "SIZE \(maxMessageSize)", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8",
        ])
        #expect(actions == [.send(expected)])
        #expect(replies(actions).first?.wireBytes == bytes(
            "250-mx.example\r\n250-PIPELINING\r\n250-SIZE \(maxMessageSize)\r\n250-8BITMIME\r\n"
                + "250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n"))
        #expect(session.clientName == "client.example")
    }

    @Test("HELO gets a one-line 250 without extensions")
    func helo() {
        var session = ServerSession(configuration: .standard)
        _ = session.handle(.connected)
        #expect(session.handle(command("HELO old.example")) == [.send(SMTPReply(250, nil, "mx.example"))])
        #expect(session.clientName == "old.example")
        _ = session.handle(command("EHLO new.example"))
        #expect(session.clientName == "new.example")
    }

    @Test("DATA asks for the decoder with the configured size limit", arguments: [1, 1000, 52_428_800])
    func receiveData(limit: Int) {
        var session = greetedSession(.standard.with { $0.maxMessageSize = limit })
        _ = session.handle(Steps.mail.event)
        _ = session.handle(Steps.rcpt.event)
        #expect(session.handle(command("DATA")) == [
            .send(SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>")), .receiveData(sizeLimit: limit),
        ])
    }

    @Test("the commit carries the whole envelope and the HELO name; 250 names the queue ID")
    func commitCarriesTransaction() {
        var session = greetedSession()
        _ = session.handle(command("MAIL FROM:<a@client.example> SIZE=10 BODY=8BITMIME"))
        _ = session.handle(command("RCPT TO:<z@dest.example>"))
        _ = session.handle(command("RCPT TO:<y@other.example>"))
        _ = session.handle(command("DATA"))
        var expected = MailTransaction(
            sender: .mailbox(Mailbox(localPart: "a", domain: "client.example")),
            parameters: MailParameters(size: 10, body: .eightBitMIME))
        expected.recipients = [Mailbox(localPart: "z", domain: "dest.example"), Mailbox(localPart: "y", domain: "other.example")]
        #expect(session.handle(dataEnd()) == [.commit(expected, heloName: "client.example")])
        #expect(session.handle(.committed(queueID: "4F3A9C")) == [.send(SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok: queued as 4F3A9C"))])
        #expect(session.handle(.committed(queueID: "4F3A9C")) == [], "a second answer to one commit is ignored")
    }

    @Test("a refused recipient is not in the commit")
    func refusedRecipientsLeftOut() {
        var session = greetedSession(.standard.with { $0.maxRecipients = 1 })
        _ = session.handle(command("MAIL FROM:<>"))
        _ = session.handle(command("RCPT TO:<z@dest.example>"))
        _ = session.handle(command("RCPT TO:<josé@dest.example>"))
        _ = session.handle(command("RCPT TO:<y@dest.example>"))
        _ = session.handle(command("DATA"))
        var expected = MailTransaction(sender: .null, parameters: MailParameters())
        expected.recipients = [Mailbox(localPart: "z", domain: "dest.example")]
        #expect(session.handle(dataEnd()) == [.commit(expected, heloName: "client.example")])
    }

    @Test("a repeated recipient is recorded once, in first-seen order")
    func duplicateRecipients() {
        var session = greetedSession()
        _ = session.handle(command("MAIL FROM:<a@client.example>"))
        for address in ["b@dest.example", "c@dest.example", "b@dest.example", "c@dest.example"] {
            #expect(session.handle(command("RCPT TO:<\(address)>")).map(render) == ["250 2.1.5"])
        }
        #expect(session.transaction?.recipients == [Mailbox(localPart: "b", domain: "dest.example"), Mailbox(localPart: "c", domain: "dest.example")])
    }

    @Test("<Postmaster> without a domain is accepted and addressed to our host name (RFC 5321 §4.5.1)")
    func barePostmaster() {
        var session = greetedSession()
        _ = session.handle(command("MAIL FROM:<a@client.example>"))
        #expect(session.handle(command("RCPT TO:<Postmaster>")).map(render) == ["250 2.1.5"])
        #expect(session.transaction?.recipients == [Mailbox(localPart: "postmaster", domain: "mx.example")])
    }

    @Test("commitFailed sends exactly the reply it was given", arguments: [
        SMTPReply(451, EnhancedStatusCode(4, 3, 0), "Error: queue file write error"),
        SMTPReply(452, EnhancedStatusCode(4, 3, 1), lines: ["Insufficient system storage", "try later"]),
        SMTPReply(554, nil, "Transaction failed"),
    ])
    func commitFailed(reply: SMTPReply) {
        var session = greetedSession()
        for step in Steps.message("x").dropLast() { _ = session.handle(step.event) }
        #expect(session.handle(.commitFailed(reply)) == [.send(reply)])
        #expect(!session.isClosed)
    }

    @Test("reply texts clients and logs rely on")
    func replyTexts() {
        var denied = greetedSession(.standard.with { $0.relayAllowed = false })
        _ = denied.handle(Steps.mail.event)
        #expect(denied.handle(command("RCPT TO:<b@dest.example>")) == [.send(SMTPReply(554, EnhancedStatusCode(5, 7, 1), "<b@dest.example>: Relay access denied"))])

        var oversize = greetedSession()
        #expect(replies(oversize.handle(command("MAIL FROM:<a@client.example> SIZE=1001"))).first?.lines == ["Message size exceeds fixed limit of 1000 octets"])

        var unknown = greetedSession()
        #expect(replies(unknown.handle(command("MAIL FROM:<a@client.example> XFOO=1"))).first?.lines == ["Unsupported parameter XFOO"])
    }

    @Test("QUIT and timeouts close the session")
    func closing() {
        var quitting = greetedSession()
        #expect(quitting.handle(command("QUIT")) == [.send(SMTPReply(221, EnhancedStatusCode(2, 0, 0), "Bye")), .close])
        #expect(quitting.isClosed)
        #expect(quitting.handle(command("MAIL FROM:<a@client.example>")) == [], "nothing more after close")

        var idle = greetedSession()
        #expect(idle.handle(.timedOut) == [.send(SMTPReply(421, EnhancedStatusCode(4, 4, 2), "mx.example Error: timeout exceeded")), .close])
        #expect(idle.isClosed)
    }

    @Test("usedEHLO follows the last greeting")
    func usedEHLO() {
        var session = ServerSession(configuration: .standard)
        _ = session.handle(.connected)
        #expect(!session.usedEHLO)
        _ = session.handle(command("EHLO client.example"))
        #expect(session.usedEHLO)
        _ = session.handle(command("HELO client.example"))
        #expect(!session.usedEHLO)
        _ = session.handle(command("EHLO"))  // a failed EHLO changes nothing
        #expect(!session.usedEHLO)
    }

    @Test("transaction is visible from MAIL until the commit is answered or the transaction ends")
    func currentTransaction() {
        var session = greetedSession()
        #expect(session.transaction == nil)
        _ = session.handle(Steps.mail.event)
        var expected = MailTransaction(sender: .mailbox(Mailbox(localPart: "a", domain: "client.example")), parameters: MailParameters())
        #expect(session.transaction == expected)
        _ = session.handle(Steps.rcpt.event)
        expected.recipients = [Mailbox(localPart: "b", domain: "dest.example")]
        #expect(session.transaction == expected)
        _ = session.handle(command("DATA"))
        #expect(session.transaction == expected, "while receiving data")
        _ = session.handle(dataEnd())
        #expect(session.transaction == expected, "while committing")
        _ = session.handle(.committed(queueID: "Q1"))
        #expect(session.transaction == nil)

        for ending in [command("RSET"), dataEnd { $0.sawNUL = true }, command("QUIT")] {
            for step in [Steps.mail, Steps.rcpt, Steps.data] { _ = session.handle(step.event) }
            #expect(session.transaction != nil)
            _ = session.handle(ending)
            #expect(session.transaction == nil, "after \(ending)")
        }
    }

    @Test("the error limit ends with 421 4.7.0 naming the host")
    func errorLimitText() {
        var session = greetedSession(.standard.with { $0.maxErrors = 1 })
        #expect(session.handle(command("BOGUS")) == [
            .send(SMTPReply(500, EnhancedStatusCode(5, 5, 1), "Error: command not recognized")),
            .send(SMTPReply(421, EnhancedStatusCode(4, 7, 0), "mx.example Error: too many errors")),
            .close,
        ])
        #expect(session.isClosed)
    }

    // While a commit is pending, input must not reset the phase: the message is being queued and its 250
    // must still come. (InboundConnection never feeds input then; the session defends itself anyway.)
    @Test("input while committing does not lose the 250", arguments: ["RSET", "EHLO client.example", "HELO c"])
    func inputWhileCommitting(line: String) {
        var session = greetedSession()
        for step in Steps.message("x").dropLast() { _ = session.handle(step.event) }
        #expect(session.handle(command(line)).map(render) == ["451 4.5.0"])
        #expect(session.handle(.committed(queueID: "Q1")).map(render) == ["250 2.0.0"])
    }
}

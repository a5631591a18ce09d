import SMTPProtocol
import Testing

private let pipelining = "250-mx.example\n250-PIPELINING\n250-SIZE 10240000\n250 8BITMIME"
private let lockstep = "250-mx.example\n250-SIZE 10240000\n250 8BITMIME"
private let two = envelope(["b@dest.example", "c@dest.example"])
private let three = envelope(["b@dest.example", "c@dest.example", "d@dest.example"])

/// Mail transactions, each test the whole dialogue with the upstream.
@Suite("ClientSession transaction dialogues")
struct ClientSessionTransactionTests {
    static let dialogues: [ClientDialogue] = [
        ClientDialogue("pipelined: MAIL, every RCPT and DATA in one write", .plain, hello(pipelining) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | RCPT TO:<c@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n250 2.1.5 Ok\n250 2.1.5 Ok\n354 End data with <CR><LF>.<CR><LF>", ["sendBody"]),
            ("250 2.0.0 Ok: queued as 1", ["completed(250 2.0.0; 250 2.0.0)", "ready"]),
        ]),
        ClientDialogue("pipelined replies arriving one by one", .plain, hello(pipelining) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | RCPT TO:<c@dest.example> | DATA"]),
            ("250 2.1.0 Ok", []),
            ("250 2.1.5 Ok", []),
            ("250 2.1.5 Ok", []),
            ("354 go ahead", ["sendBody"]),
            ("250 2.0.0 Ok", ["completed(250 2.0.0; 250 2.0.0)", "ready"]),
        ]),
        ClientDialogue("lockstep: one command per reply", .plain, hello(lockstep) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("250 2.1.0 Ok", ["RCPT TO:<b@dest.example>"]),
            ("250 2.1.5 Ok", ["RCPT TO:<c@dest.example>"]),
            ("250 2.1.5 Ok", ["DATA"]),
            ("354 go ahead", ["sendBody"]),
            ("250 2.0.0 Ok", ["completed(250 2.0.0; 250 2.0.0)", "ready"]),
        ]),
        ClientDialogue("mixed RCPT results, pipelined", .plain, hello(pipelining) + [
            (.start(three), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | RCPT TO:<c@dest.example> | RCPT TO:<d@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n550 5.1.1 <b@dest.example>: User unknown\n250 2.1.5 Ok\n452 4.2.2 Mailbox full\n354 go ahead", ["sendBody"]),
            ("250 2.0.0 Ok", ["completed(550 5.1.1; 250 2.0.0; 452 4.2.2)", "ready"]),
        ]),
        ClientDialogue("mixed RCPT results, lockstep", .plain, hello(lockstep) + [
            (.start(three), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("250 2.1.0 Ok", ["RCPT TO:<b@dest.example>"]),
            ("250 2.1.5 Ok", ["RCPT TO:<c@dest.example>"]),
            ("550 5.1.1 User unknown", ["RCPT TO:<d@dest.example>"]),
            ("250 2.1.5 Ok", ["DATA"]),
            ("354 go ahead", ["sendBody"]),
            ("250 2.0.0 Ok", ["completed(250 2.0.0; 550 5.1.1; 250 2.0.0)", "ready"]),
        ]),
        ClientDialogue("MAIL refused with pipelining: the 503s that follow are not verdicts", .plain, hello(pipelining) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | RCPT TO:<c@dest.example> | DATA"]),
            ("553 5.7.1 <a@client.example>: Sender address rejected", []),
            ("503 5.5.1 Error: need MAIL command\n250 2.1.5 Ok", []),  // even a confused 250 changes nothing
            ("503 5.5.1 Error: need MAIL command", ["completed(553 5.7.1; 553 5.7.1)", "RSET"]),
            ("250 2.0.0 Ok", ["ready"]),
        ]),
        ClientDialogue("MAIL refused in lockstep: no RCPT sent", .plain, hello(lockstep) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("452 4.3.1 Insufficient system storage", ["completed(452 4.3.1; 452 4.3.1)", "RSET"]),
            ("250 2.0.0 Ok", ["ready"]),
        ]),
        ClientDialogue("every RCPT refused, pipelined: DATA's 554 is expected", .plain, hello(pipelining) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | RCPT TO:<c@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n550 5.1.1 unknown\n450 4.2.1 try later\n554 5.5.1 Error: no valid recipients",
             ["completed(550 5.1.1; 450 4.2.1)", "RSET"]),
            ("250 2.0.0 Ok", ["ready"]),
        ]),
        ClientDialogue("every RCPT refused, lockstep: RSET instead of DATA", .plain, hello(lockstep) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("250 2.1.0 Ok", ["RCPT TO:<b@dest.example>"]),
            ("550 5.1.1 unknown", ["RCPT TO:<c@dest.example>"]),
            ("551 5.1.6 moved", ["completed(550 5.1.1; 551 5.1.6)", "RSET"]),
            ("250 2.0.0 Ok", ["ready"]),
        ]),
        ClientDialogue("354 although no RCPT was accepted: an empty message, its reply ignored", .plain, hello(pipelining) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n550 5.1.1 unknown\n354 go ahead", ["."]),
            ("250 2.0.0 Ok: queued as 2", ["completed(550 5.1.1)", "ready"]),
        ]),
        ClientDialogue("354 although no RCPT was accepted, then the empty message is refused", .plain, hello(pipelining) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n550 5.1.1 unknown\n354 go ahead", ["."]),
            ("554 5.5.1 no valid recipients", ["completed(550 5.1.1)", "RSET"]),
            ("250 2.0.0 Ok", ["ready"]),
        ]),
        ClientDialogue("354 although MAIL was refused", .plain, hello(pipelining) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | DATA"]),
            ("550 5.7.1 no\n503 5.5.1 need MAIL\n354 go ahead", ["."]),
            ("503 5.5.1 need MAIL", ["completed(550 5.7.1)", "RSET"]),
            ("250 2.0.0 Ok", ["ready"]),
        ]),
        ClientDialogue("final dot answered 451: accepted recipients get it, refused ones keep theirs", .plain, hello(pipelining) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | RCPT TO:<c@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n250 2.1.5 Ok\n550 5.1.1 unknown\n354 go ahead", ["sendBody"]),
            ("451 4.3.0 Error: queue file write error", ["completed(451 4.3.0; 550 5.1.1)", "RSET"]),
            ("250 2.0.0 Ok", ["ready"]),
        ]),
        ClientDialogue("final dot answered 554", .plain, hello(pipelining) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | RCPT TO:<c@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n250 2.1.5 Ok\n250 2.1.5 Ok\n354 go ahead", ["sendBody"]),
            ("554-5.7.1 Message rejected\n554 5.7.1 spam score too high", ["completed(554 5.7.1; 554 5.7.1)", "RSET"]),
            ("250 2.0.0 Ok", ["ready"]),
        ]),
        ClientDialogue("DATA refused in lockstep", .plain, hello(lockstep) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("250 2.1.0 Ok", ["RCPT TO:<b@dest.example>"]),
            ("250 2.1.5 Ok", ["DATA"]),
            ("451 4.3.0 try again", ["completed(451 4.3.0)", "RSET"]),
            ("250 2.0.0 Ok", ["ready"]),
        ]),
        ClientDialogue("421 mid-transaction: the transaction is in flight", .plain, hello(lockstep) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("250 2.1.0 Ok", ["RCPT TO:<b@dest.example>"]),
            ("421 4.4.2 mx.example Error: timeout exceeded", ["failed(serviceClosing 421 4.4.2, inFlight)"]),
            ("250 2.1.5 Ok", []),
            (.quit, ["close"]),
        ]),
        ClientDialogue("421 to the final dot", .plain, hello(pipelining) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n250 2.1.5 Ok\n354 go ahead", ["sendBody"]),
            ("421 4.3.2 Service shutting down", ["failed(serviceClosing 421 4.3.2, inFlight)"]),
        ]),
        ClientDialogue("421 among pipelined replies", .plain, hello(pipelining) + [
            (.start(two), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | RCPT TO:<c@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n421 4.7.0 too many errors\n503 5.5.1 need RCPT", ["failed(serviceClosing 421 4.7.0, inFlight)"]),
        ]),
        ClientDialogue("two transactions in a row: after a 250 no RSET is needed", .plain, hello(pipelining) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100 | RCPT TO:<b@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n250 2.1.5 Ok\n354 go ahead", ["sendBody"]),
            ("250 2.0.0 Ok: queued as 1", ["completed(250 2.0.0)", "ready"]),
            (.start(envelope(["c@dest.example"], from: "")), ["MAIL FROM:<> SIZE=100 | RCPT TO:<c@dest.example> | DATA"]),
            ("250 2.1.0 Ok\n250 2.1.5 Ok\n354 go ahead", ["sendBody"]),
            ("250 2.0.0 Ok: queued as 2", ["completed(250 2.0.0)", "ready"]),
            (.quit, ["QUIT"]),
            ("221 2.0.0 Bye", ["close"]),
        ]),
        ClientDialogue("two transactions in a row: RSET after a refusal", .plain, hello(lockstep) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("250 2.1.0 Ok", ["RCPT TO:<b@dest.example>"]),
            ("550 5.1.1 unknown", ["completed(550 5.1.1)", "RSET"]),
            ("250 2.0.0 Ok", ["ready"]),
            (.start(envelope(["c@dest.example"])), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("250 2.1.0 Ok", ["RCPT TO:<c@dest.example>"]),
            ("250 2.1.5 Ok", ["DATA"]),
            ("354 go ahead", ["sendBody"]),
            ("250 2.0.0 Ok", ["completed(250 2.0.0)", "ready"]),
        ]),
        ClientDialogue("RSET refused", .plain, hello(lockstep) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("550 5.7.1 no", ["completed(550 5.7.1)", "RSET"]),
            ("502 5.5.1 RSET not implemented", ["failed(unexpectedReply 502 5.5.1 to RSET)"]),
        ]),
        ClientDialogue("3xx to MAIL", .plain, hello(lockstep) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("354 what", ["failed(unexpectedReply 354 to MAIL, inFlight)"]),
        ]),
        ClientDialogue("250 to DATA", .plain, hello(lockstep) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100"]),
            ("250 Ok", ["RCPT TO:<b@dest.example>"]),
            ("250 Ok", ["DATA"]),
            ("250 Ok", ["failed(unexpectedReply 250 to DATA, inFlight)"]),
        ]),
        ClientDialogue("start while a transaction runs", .plain, hello(lockstep) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100"]),
            (.start(envelope()), ["failed(unexpectedReply 451 4.3.0 to start, inFlight)"]),
        ]),
        ClientDialogue("quit while a transaction runs", .plain, hello(lockstep) + [
            (.start(envelope()), ["MAIL FROM:<a@client.example> SIZE=100"]),
            (.quit, ["failed(unexpectedReply 451 4.3.0 to quit, inFlight)"]),
        ]),
        ClientDialogue("SMTPUTF8 required but not offered: nothing is sent", .plain, hello(pipelining) + [
            (.start(envelope(["b@dest.example", "j\u{F6}rg@dest.example"], utf8: true)), ["completed(550 5.6.7; 550 5.6.7)", "ready"]),
            (.quit, ["QUIT"]),
        ]),
        ClientDialogue("an address with a line break is never sent", .plain, hello(pipelining) + [
            (.start(envelope(["b@dest.example>\r\nRCPT TO:<evil@x.example"])), ["completed(553 5.1.3)", "ready"]),
        ]),
        ClientDialogue("no recipients: nothing to do", .plain, hello(pipelining) + [
            (.start(envelope([])), ["completed()", "ready"]),
        ]),
    ]

    @Test("dialogue", arguments: dialogues)
    func dialogue(_ dialogue: ClientDialogue) {
        dialogue.run()
    }

    static let parameters: [(ehlo: String, ClientTransaction, mail: String)] = [
        ("250-mx.example\n250 PIPELINING", envelope(eightBit: true, utf8: false),
         "MAIL FROM:<a@client.example> | RCPT TO:<b@dest.example> | DATA"),
        ("250 mx.example", envelope(eightBit: true, utf8: false), "MAIL FROM:<a@client.example>"),
        ("250-mx.example\n250 SIZE 1000", envelope(size: 12345), "MAIL FROM:<a@client.example> SIZE=12345"),
        ("250-mx.example\n250 SIZE 0", envelope(size: 7), "MAIL FROM:<a@client.example> SIZE=7"),
        ("250-mx.example\n250 SIZE", envelope(size: 7), "MAIL FROM:<a@client.example> SIZE=7"),
        ("250-mx.example\n250 8BITMIME", envelope(eightBit: true), "MAIL FROM:<a@client.example> BODY=8BITMIME"),
        ("250-mx.example\n250 8BITMIME", envelope(eightBit: false), "MAIL FROM:<a@client.example>"),
        ("250-mx.example\n250 SMTPUTF8", envelope(utf8: true), "MAIL FROM:<a@client.example> SMTPUTF8"),
        ("250-mx.example\n250 SMTPUTF8", envelope(utf8: false), "MAIL FROM:<a@client.example>"),
        ("250-mx.example\n250-SIZE 1000\n250-8BITMIME\n250 SMTPUTF8", envelope(from: "j\u{F6}rg@client.example", size: 99, eightBit: true, utf8: true),
         "MAIL FROM:<j\u{F6}rg@client.example> SIZE=99 BODY=8BITMIME SMTPUTF8"),
        ("250-mx.example\n250-size 1000\n250-8bitmime\n250 smtputf8", envelope(size: 1, eightBit: true, utf8: true),
         "MAIL FROM:<a@client.example> SIZE=1 BODY=8BITMIME SMTPUTF8"),
        ("250-mx.example\n250 SIZE 1000", envelope(from: "", size: 5), "MAIL FROM:<> SIZE=5"),
    ]

    @Test("SIZE, BODY and SMTPUTF8 only when offered", arguments: parameters)
    func mailParameters(ehlo: String, transaction: ClientTransaction, mail: String) {
        ClientDialogue("parameters", .plain, hello(ehlo) + [(.start(transaction), [mail])]).run()
    }

    @Test("the reply to the final dot is awaited with the data timeout, nothing else is")
    func awaitingDataReply() {
        var session = ClientSession(configuration: .plain)
        var awaiting: [Bool] = []
        let events: [ClientSession.Event] = [
            .connected,
            .replyReceived(SMTPReply(220, nil, "mx.example")),
            .replyReceived(SMTPReply(250, nil, "mx.example")),
            .start(envelope()),
            .replyReceived(SMTPReply(250, nil, "Ok")),
            .replyReceived(SMTPReply(250, nil, "Ok")),
            .replyReceived(SMTPReply(354, nil, "go ahead")),
            .replyReceived(SMTPReply(250, nil, "Ok")),
        ]
        for event in events {
            _ = session.handle(event)
            awaiting.append(session.awaitingDataReply)
        }
        #expect(awaiting == [false, false, false, false, false, false, true, false])
    }

    @Test("inFlight is the transaction under way")
    func inFlight() {
        var session = ClientSession(configuration: .plain)
        for event: ClientSession.Event in [.connected, .replyReceived(SMTPReply(220, nil, "mx")), .replyReceived(SMTPReply(250, nil, "mx"))] {
            _ = session.handle(event)
        }
        #expect(session.inFlight == nil)
        _ = session.handle(.start(two))
        #expect(session.inFlight == two)
        let closing = SMTPReply(421, EnhancedStatusCode(4, 4, 2), "timeout")
        #expect(session.handle(.replyReceived(closing)) == [.failed(.serviceClosing(closing), inFlight: two)])
        #expect(session.inFlight == nil)
    }

    @Test("completed carries the transaction and the upstream's replies as given")
    func completedResult() {
        var session = ClientSession(configuration: .plain)
        for event: ClientSession.Event in [.connected, .replyReceived(SMTPReply(220, nil, "mx")), .replyReceived(SMTPReply(250, nil, "mx")), .start(two)] {
            _ = session.handle(event)
        }
        let unknown = SMTPReply(550, EnhancedStatusCode(5, 1, 1), lines: ["<b@dest.example>: Recipient address rejected", "User unknown"])
        let queued = SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok: queued as 7")
        _ = session.handle(.replyReceived(SMTPReply(250, nil, "Ok")))
        _ = session.handle(.replyReceived(unknown))
        _ = session.handle(.replyReceived(SMTPReply(250, nil, "Ok")))
        #expect(session.handle(.replyReceived(SMTPReply(354, nil, "go"))) == [.sendBody])
        let actions = session.handle(.replyReceived(queued))
        #expect(actions.first == .completed(ClientTransactionResult(transaction: two, replies: [unknown, queued])))
    }
}

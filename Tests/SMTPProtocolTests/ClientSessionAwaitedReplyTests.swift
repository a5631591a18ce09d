import SMTPProtocol
import Testing

/// `ClientSession.awaitedReply` names what a timeout waited for, so a deferral after the final dot (where the
/// upstream may already have the message) reads differently from one at the greeting.
@Suite("ClientSession awaited reply")
struct ClientSessionAwaitedReplyTests {
    @Test func eachStepNamesItsReply() {
        var session = ClientSession(configuration: .init(
            heloName: "relay.test", security: .none, credentials: nil, allowPlaintextAuthentication: false))
        var seen = [session.awaitedReply]
        _ = session.handle(.connected)
        seen.append(session.awaitedReply)
        _ = session.handle(.replyReceived(SMTPReply(220, nil, "upstream.test ESMTP")))
        seen.append(session.awaitedReply)
        _ = session.handle(.replyReceived(SMTPReply(250, nil, lines: ["upstream.test", "8BITMIME"])))
        _ = session.handle(.start(ClientTransaction(
            sender: "a@example.org", recipients: ["b@example.net"], size: 10, eightBitMIME: false, smtputf8: false)))
        seen.append(session.awaitedReply)
        _ = session.handle(.replyReceived(SMTPReply(250, nil, "Ok")))
        seen.append(session.awaitedReply)
        _ = session.handle(.replyReceived(SMTPReply(250, nil, "Ok")))
        seen.append(session.awaitedReply)
        _ = session.handle(.replyReceived(SMTPReply(354, nil, "go ahead")))
        seen.append(session.awaitedReply)
        #expect(seen == [
            "the greeting", "the greeting", "the reply to EHLO", "the reply to MAIL", "the reply to RCPT",
            "the reply to DATA", "the reply to the final dot",
        ])
    }
}

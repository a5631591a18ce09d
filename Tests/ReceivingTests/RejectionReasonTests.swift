import Receiving
import SMTPProtocol
import Testing

@Suite("RejectionReason")
struct RejectionReasonTests {
    @Test func theSessionsRefusalsHaveTheirReasons() {
        let cases: [(SMTPReply, RejectionReason?)] = [
            (SMTPReply(554, .init(5, 7, 1), "<b@example.net>: Relay access denied"), .relayDenied),
            (SMTPReply(552, .init(5, 3, 4), "Message size exceeds fixed limit of 10 octets"), .messageSize),
            (SMTPReply(452, .init(4, 5, 3), "Error: too many recipients"), .tooManyRecipients),
            (SMTPReply(553, .init(5, 6, 7), "Non-ASCII sender address requires the SMTPUTF8 parameter"), .smtputf8Required),
            (SMTPReply(550, .init(5, 5, 2), "Error: bare <CR> or <LF> received"), .bareLineEnd),
            (SMTPReply(554, .init(5, 6, 0), "Error: message contains NUL characters"), .nul),
            (SMTPReply(452, .init(4, 3, 1), "Insufficient system storage; try again later"), .storage),
            (SMTPReply(451, .init(4, 3, 0), "Local error in processing; try again later"), .storage),
            (SMTPReply(530, .init(5, 7, 0), "Must issue a STARTTLS command first"), .tlsOrAuthRequired),
            (SMTPReply(530, .init(5, 7, 0), "Authentication required"), .tlsOrAuthRequired),
            (SMTPReply(535, .init(5, 7, 8), "Error: authentication failed"), .authFailed),
            (SMTPReply(553, .init(5, 7, 1), "Sender address rejected: not allowed for this relay"), .senderDenied),
            (SMTPReply(450, .init(4, 7, 1), "Error: too many messages from your address, try again later"), .messageRate),
        ]
        for (reply, reason) in cases {
            #expect(RejectionReason(reply) == reason, "\(reply)")
        }
    }

    @Test func otherRepliesAreNotRejectionsOfMail() {
        let replies = [
            SMTPReply(250, .init(2, 0, 0), "Ok: queued as X"),
            SMTPReply(500, .init(5, 5, 2), "Error: line too long"),
            SMTPReply(500, .init(5, 5, 1), "Error: command not recognized"),
            SMTPReply(501, .init(5, 5, 2), "Error: NUL character in command"),
            SMTPReply(503, .init(5, 5, 1), "Error: need MAIL command"),
            SMTPReply(421, .init(4, 4, 2), "test.example Error: timeout exceeded"),
            SMTPReply(451, .init(4, 5, 0), "Error: previous message is still being committed"),
            SMTPReply(554, nil, "no enhanced code"),
        ]
        for reply in replies {
            #expect(RejectionReason(reply) == nil, "\(reply)")
        }
    }
}

import SMTPProtocol
import Testing

private let ehlo = Steps.ehlo, mail = Steps.mail, rcpt = Steps.rcpt, data = Steps.data, end = Steps.end, quit = Steps.quit

@Suite("ServerSession transcripts")
struct ServerSessionTranscriptTests {
    static let dialogues: [Transcript] = [
        Transcript("250 only after the commit", Steps.upToData + [end, Steps.committed("Q1"), quit]),
        Transcript("HELO instead of EHLO", [
            (command("HELO old.example"), ["250"]), mail, rcpt, data,
            (dataEnd(), ["commit(old.example)"]), Steps.committed("Q1"),
        ]),
        Transcript("MAIL before EHLO", [(command("MAIL FROM:<a@client.example>"), ["503 5.5.1"]), ehlo, mail]),
        Transcript("nested MAIL keeps the transaction", [ehlo, mail, (command("MAIL FROM:<c@client.example>"), ["503 5.5.1"]), rcpt, data]),
        Transcript("RCPT before MAIL", [ehlo, (command("RCPT TO:<b@dest.example>"), ["503 5.5.1"])]),
        Transcript("DATA before MAIL", [ehlo, (command("DATA"), ["503 5.5.1"])]),
        Transcript("DATA without RCPT", [ehlo, mail, (command("DATA"), ["503 5.5.1"]), rcpt, data]),
        Transcript("ESMTP parameters", [
            ehlo,
            (command("MAIL FROM:<a@client.example> FOO=1"), ["555 5.5.4"]),
            (command("MAIL FROM:<a@client.example> SIZE=abc"), ["501 5.5.4"]),
            (command("MAIL FROM:<a@client.example> SIZE=10 BODY=8BITMIME SMTPUTF8"), ["250 2.1.0"]),
            (command("RCPT TO:<b@dest.example> NOTIFY=NEVER"), ["555 5.5.4"]),
            rcpt,
        ]),
        Transcript("relay denied", .standard.with { $0.relayAllowed = false }, [
            ehlo, mail,
            (command("RCPT TO:<b@dest.example>"), ["554 5.7.1"]),
            (command("RCPT TO:<c@dest.example>"), ["554 5.7.1"]),
            (command("DATA"), ["503 5.5.1"]),
        ]),
        Transcript("too many recipients", [
            ehlo, mail, rcpt,
            (command("RCPT TO:<c@dest.example>"), ["250 2.1.5"]),
            (command("RCPT TO:<d@dest.example>"), ["250 2.1.5"]),
            (command("RCPT TO:<e@dest.example>"), ["452 4.5.3"]),
            data, end,
        ]),
        Transcript("a repeated recipient is accepted and does not count twice", [
            ehlo, mail, rcpt, rcpt, rcpt,
            (command("RCPT TO:<c@dest.example>"), ["250 2.1.5"]),
            (command("RCPT TO:<d@dest.example>"), ["250 2.1.5"]),
            rcpt,  // already recorded, so still fine at the limit
            (command("RCPT TO:<e@dest.example>"), ["452 4.5.3"]),
        ]),
        Transcript("declared SIZE over the limit", [
            ehlo,
            (command("MAIL FROM:<a@client.example> SIZE=1001"), ["552 5.3.4"]),
            (command("RCPT TO:<b@dest.example>"), ["503 5.5.1"]),
            (command("MAIL FROM:<a@client.example> SIZE=1000"), ["250 2.1.0"]),
        ]),
        Transcript("commit failure passes the reply through", Steps.upToData + [
            end,
            (.commitFailed(SMTPReply(451, EnhancedStatusCode(4, 3, 0), "Spool unavailable")), ["451 4.3.0"]),
            (command("RCPT TO:<b@dest.example>"), ["503 5.5.1"]),
        ] + Steps.message("Q2")),
        Transcript("RSET ends the transaction", [
            ehlo, mail, rcpt,
            (command("RSET"), ["250 2.0.0"]),
            (command("RCPT TO:<b@dest.example>"), ["503 5.5.1"]),
            (command("DATA"), ["503 5.5.1"]),
        ] + Steps.message("Q1")),
        Transcript("RSET before EHLO does not greet", [
            (command("RSET"), ["250 2.0.0"]), (command("MAIL FROM:<a@client.example>"), ["503 5.5.1"]),
        ]),
        Transcript("EHLO in a transaction resets it", [ehlo, mail, rcpt, ehlo, (command("DATA"), ["503 5.5.1"]), mail]),
        Transcript("NOOP, VRFY, HELP leave the transaction alone", [
            ehlo, mail, rcpt,
            (command("NOOP"), ["250 2.0.0"]),
            (command("VRFY b"), ["252 2.5.2"]),
            (command("HELP"), ["214 2.0.0"]),
            data, end,
        ]),
        Transcript("QUIT at once", [quit]),
        Transcript("STARTTLS and AUTH are not offered yet", [
            ehlo, (command("STARTTLS"), ["502 5.5.1"]), (command("AUTH PLAIN AGEAYg=="), ["502 5.5.1"]), mail,
        ]),
        Transcript("parse errors map to replies", [
            ehlo,
            (.input(.lineTooLong), ["500 5.5.2"]),
            (command("XYZZY"), ["500 5.5.1"]),
            (command("NOOP\0"), ["501 5.5.2"]),
            (command("QUIT now"), ["501 5.5.4"]),
            (command("MAIL FROM:<a..b@client.example>"), ["501 5.1.7"]),
            mail,
            (command("RCPT TO:<webmaster>"), ["501 5.1.3"]),
            (command("RCPT TO:<Postmaster>"), ["250 2.1.5"]),
            rcpt,
        ]),
        Transcript("timeout at the greeting", [(.timedOut, ["421 4.4.2", "close"])]),
        Transcript("timeout in a transaction", [ehlo, mail, rcpt, (.timedOut, ["421 4.4.2", "close"])]),
        Transcript("timeout while receiving DATA", Steps.upToData + [(.timedOut, ["421 4.4.2", "close"])]),
        Transcript("null sender", [
            ehlo, (command("MAIL FROM:<>"), ["250 2.1.0"]), rcpt, data, end, Steps.committed("BOUNCE1"),
        ]),
        Transcript("many messages per session", [ehlo] + (1...5).flatMap { Steps.message("Q\($0)") } + [quit]),
        Transcript("non-ASCII sender needs SMTPUTF8", [
            ehlo,
            (command("MAIL FROM:<用户@例子.广告>"), ["553 5.6.7"]),
            (command("MAIL FROM:<用户@例子.广告> SMTPUTF8"), ["250 2.1.0"]),
            (command("RCPT TO:<ü@例子.广告>"), ["250 2.1.5"]),
            data,
        ]),
        Transcript("non-ASCII recipient needs SMTPUTF8", [
            ehlo, mail,
            (command("RCPT TO:<josé@dest.example>"), ["553 5.6.7"]),
            (command("RCPT TO:<b@dëst.example>"), ["553 5.6.7"]),
            (command("DATA"), ["503 5.5.1"]),
            rcpt,
        ]),
        Transcript("events out of phase are ignored", [
            (.committed(queueID: "X"), []),
            (.commitFailed(SMTPReply(451, nil, "x")), []),
            (dataEnd(), []),
            ehlo, mail,
            (dataEnd(), []),
            (.committed(queueID: "X"), []),
            rcpt, data,
        ]),
    ]

    @Test("dialogues", arguments: dialogues)
    func dialogue(_ transcript: Transcript) {
        transcript.run()
    }

    /// A refused message leaves the session idle: the transaction is gone and a new one may start.
    static let refusals: [(String, ServerSession.Event, String)] = [
        ("oversize", dataEnd(size: 5000) { $0.exceededSizeLimit = true }, "552 5.3.4"),
        ("bare LF", dataEnd { $0.sawBareLF = true }, "550 5.5.2"),
        ("bare CR", dataEnd { $0.sawBareCR = true }, "550 5.5.2"),
        ("NUL", dataEnd { $0.sawNUL = true }, "554 5.6.0"),
        ("oversize beats bare LF", dataEnd { $0.exceededSizeLimit = true; $0.sawBareLF = true }, "552 5.3.4"),
        ("bare CR beats NUL", dataEnd { $0.sawBareCR = true; $0.sawNUL = true }, "550 5.5.2"),
        ("NUL beats overlong", dataEnd { $0.sawNUL = true; $0.sawOverlongLine = true }, "554 5.6.0"),
    ]

    @Test("refused messages, then the session goes on", arguments: refusals)
    func refusedMessage(name: String, end refused: ServerSession.Event, reply: String) {
        Transcript(name, Steps.upToData + [
            (refused, [reply]),
            (.committed(queueID: "never"), []),
            (command("RCPT TO:<b@dest.example>"), ["503 5.5.1"]),
        ] + Steps.message("Q2")).run()
    }

    @Test("the tenth error closes with 421", arguments: [1, 3, 10])
    func errorLimit(maxErrors: Int) {
        let error: Transcript.Step = (command("XYZZY"), ["500 5.5.1"])
        let last: Transcript.Step = (command("XYZZY"), ["500 5.5.1", "421 4.7.0", "close"])
        Transcript("\(maxErrors) errors", .standard.with { $0.maxErrors = maxErrors },
                   Array(repeating: error, count: maxErrors - 1) + [last]).run()
    }

    @Test("every kind of error counts; policy refusals do not")
    func whatCounts() {
        let config = ServerSession.Configuration.standard.with { $0.maxErrors = 4 }
        Transcript("counting", config, [
            (command("MAIL FROM:<a@client.example>"), ["503 5.5.1"]),  // 1: out of sequence
            ehlo,
            (.input(.lineTooLong), ["500 5.5.2"]),  // 2
            (command("MAIL FROM:<a@client.example> SIZE=5000"), ["552 5.3.4"]),
            (command("MAIL FROM:<ä@client.example>"), ["553 5.6.7"]),
            mail, rcpt,
            (command("RCPT TO:<c@dest.example>"), ["250 2.1.5"]),
            (command("RCPT TO:<d@dest.example>"), ["250 2.1.5"]),
            (command("RCPT TO:<f@dest.example>"), ["452 4.5.3"]),
            (command("STARTTLS"), ["502 5.5.1"]),  // 3
            data, (dataEnd { $0.sawBareLF = true }, ["550 5.5.2"]),
            (command("RCPT TO:<b@dest.example>"), ["503 5.5.1", "421 4.7.0", "close"]),  // 4
        ]).run()
        Transcript("relay refusals", .standard.with { $0.maxErrors = 2; $0.relayAllowed = false }, [
            ehlo, mail,
            (command("RCPT TO:<b@dest.example>"), ["554 5.7.1"]),
            (command("RCPT TO:<b@dest.example>"), ["554 5.7.1"]),
            (command("RCPT TO:<b@dest.example>"), ["554 5.7.1"]),
            (command("DATA"), ["503 5.5.1"]),  // the first error
            (command("DATA"), ["503 5.5.1", "421 4.7.0", "close"]),
        ]).run()
    }
}

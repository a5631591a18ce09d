import SMTPProtocol
import Testing

private let ehlo = Steps.ehlo, rcpt = Steps.rcpt, data = Steps.data, end = Steps.end
private let mailAsked: Transcript.Step = (command("MAIL FROM:<a@client.example>"), ["admit(-)"])
private let limited = ServerSession.Configuration.standard.with { $0.limitsMessageRate = true }

/// `inbound.rate.messages_per_minute`: with `limitsMessageRate` an accepted MAIL waits for the connection's rate
/// check; admitted it gets its 250, refused a 450 4.7.1 that leaves the session free to try again later.
@Suite("ServerSession message rate")
struct ServerSessionMessageRateTests {
    @Test(arguments: [
        Transcript("admitted: the transaction goes on as usual", limited, [
            ehlo, mailAsked, (.messageAdmission(admitted: true), ["250 2.1.0"]), rcpt, data, end, Steps.committed("Q1"),
        ]),
        Transcript("refused: 450 4.7.1, no transaction, and a later MAIL is asked about again", limited, [
            ehlo, mailAsked, (.messageAdmission(admitted: false), ["450 4.7.1"]),
            (command("RCPT TO:<b@dest.example>"), ["503 5.5.1"]),
            mailAsked, (.messageAdmission(admitted: true), ["250 2.1.0"]), rcpt,
        ]),
        Transcript("an answer nobody asked for changes nothing", limited, [
            ehlo, (.messageAdmission(admitted: true), []), (command("RCPT TO:<b@dest.example>"), ["503 5.5.1"]),
        ]),
        Transcript("refusals before the rate check are not asked about", limited.with { $0.maxMessageSize = 10 }, [
            ehlo, (command("MAIL FROM:<a@client.example> SIZE=11"), ["552 5.3.4"]),
        ]),
        Transcript("without the limit MAIL is answered at once", .standard, [ehlo, Steps.mail]),
    ])
    func dialogue(_ transcript: Transcript) {
        transcript.run()
    }

    @Test func refusalsDoNotCountAsClientErrors() {
        var session = ServerSession(configuration: limited.with { $0.maxErrors = 2 })
        _ = session.handle(.connected)
        _ = session.handle(command("EHLO client.example"))
        for _ in 0..<5 {
            #expect(session.handle(command("MAIL FROM:<a@client.example>")).map(render) == ["admit(-)"])
            #expect(session.handle(.messageAdmission(admitted: false)).map(render) == ["450 4.7.1"])
        }
        #expect(!session.isClosed)
    }

    @Test func theCheckNamesTheAuthenticatedUser() {
        var session = ServerSession(configuration: limited.with { $0.auth = .offered; $0.tlsActive = true })
        _ = session.handle(.connected)
        _ = session.handle(command("EHLO client.example"))
        _ = session.handle(command("AUTH PLAIN AGFsaWNlAHNlY3JldA=="))
        #expect(session.handle(.authenticated(user: "alice", senderDomains: [])).map(render) == ["235 2.7.0"])
        #expect(session.handle(command("MAIL FROM:<a@client.example>")).map(render) == ["admit(alice)"])
    }
}

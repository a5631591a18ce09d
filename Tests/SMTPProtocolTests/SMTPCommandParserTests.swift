import SMTPProtocol
import Testing

typealias Parsed = Result<SMTPCommand, SMTPCommandError>

private func mailbox(_ local: String, _ domain: String) -> Mailbox { Mailbox(localPart: local, domain: domain) }
private func from(_ local: String, _ domain: String) -> ReversePath { .mailbox(mailbox(local, domain)) }
private func mail(_ path: ReversePath, _ parameters: MailParameters = MailParameters()) -> Parsed {
    .success(.mail(from: path, parameters: parameters))
}
private func rcpt(_ local: String, _ domain: String) -> Parsed {
    .success(.rcpt(to: mailbox(local, domain), parameters: RecipientParameters()))
}

@Suite("SMTPCommandParser")
struct SMTPCommandParserTests {
    static let simpleCommands: [(String, Parsed)] = [
        ("HELO client.example", .success(.helo(domain: "client.example"))),
        ("helo client.example", .success(.helo(domain: "client.example"))),
        ("HeLo    client.example   ", .success(.helo(domain: "client.example"))),
        ("HELO first second", .success(.helo(domain: "first"))),
        ("HELO", .failure(.syntax("HELO requires a domain"))),
        ("HELO    ", .failure(.syntax("HELO requires a domain"))),
        ("EHLO [192.0.2.1]", .success(.ehlo(domain: "[192.0.2.1]"))),
        ("ehlo Client.Example", .success(.ehlo(domain: "Client.Example"))),
        ("EHLO", .failure(.syntax("EHLO requires a domain"))),
        ("DATA", .success(.data)),
        ("data", .success(.data)),
        ("DATA   ", .success(.data)),
        ("DATA now", .failure(.syntax("DATA takes no arguments"))),
        ("RSET", .success(.rset)),
        ("rSeT", .success(.rset)),
        ("RSET x", .failure(.syntax("RSET takes no arguments"))),
        ("NOOP", .success(.noop)),
        ("noop anything goes", .success(.noop)),
        ("QUIT", .success(.quit)),
        ("quit  ", .success(.quit)),
        ("QUIT now", .failure(.syntax("QUIT takes no arguments"))),
        ("VRFY postmaster", .success(.vrfy("postmaster"))),
        ("vrfy   John Smith  ", .success(.vrfy("John Smith"))),
        ("VRFY", .failure(.syntax("VRFY requires an argument"))),
        ("HELP", .success(.help)),
        ("help MAIL", .success(.help)),
        ("STARTTLS", .success(.starttls)),
        ("starttls x", .failure(.syntax("STARTTLS takes no arguments"))),
        ("AUTH plain", .success(.auth(mechanism: "PLAIN", initialResponse: nil))),
        ("AUTH PLAIN AGEAYg==", .success(.auth(mechanism: "PLAIN", initialResponse: "AGEAYg=="))),
        ("AUTH", .failure(.syntax("AUTH mechanism [initial-response]"))),
        ("AUTH PLAIN a b", .failure(.syntax("AUTH mechanism [initial-response]"))),
        // Unknown verbs, and things that only look like verbs.
        ("", .failure(.unrecognized)),
        ("   ", .failure(.unrecognized)),
        ("XYZZY", .failure(.unrecognized)),
        ("HELOclient", .failure(.unrecognized)),
        ("MAILFROM:<a@b.example>", .failure(.unrecognized)),
        (" HELO client.example", .failure(.unrecognized)),
        ("EHLO\tclient.example", .failure(.unrecognized)),
        ("BDAT 10 LAST", .failure(.unrecognized)),
        ("TURN", .failure(.unrecognized)),
    ]

    @Test("verbs, case and spacing", arguments: simpleCommands)
    func verbs(line: String, expected: Parsed) {
        #expect(SMTPCommandParser.parse(bytes(line)) == expected)
    }

    static let mailCommands: [(String, Parsed)] = [
        ("MAIL FROM:<a@b.example>", mail(from("a", "b.example"))),
        ("mail from:<a@b.example>", mail(from("a", "b.example"))),
        ("Mail From:<A@B.Example>", mail(from("A", "B.Example"))),
        ("MAIL FROM: <a@b.example>", mail(from("a", "b.example"))),
        ("MAIL   FROM:   <a@b.example>   ", mail(from("a", "b.example"))),
        ("MAIL FROM:<>", mail(.null)),
        ("MAIL FROM: <>", mail(.null)),
        ("MAIL FROM:<> SIZE=0", mail(.null, MailParameters(size: 0))),
        ("MAIL FROM:<a@b.example> SIZE=12345", mail(from("a", "b.example"), MailParameters(size: 12345))),
        ("MAIL FROM:<a@b.example> size=7 body=8bitmime smtputf8",
         mail(from("a", "b.example"), MailParameters(size: 7, body: .eightBitMIME, smtputf8: true))),
        ("MAIL FROM:<a@b.example>   BODY=7BIT    SIZE=1  ", mail(from("a", "b.example"), MailParameters(size: 1, body: .sevenBit))),
        ("MAIL FROM:<a@b.example> SMTPUTF8", mail(from("a", "b.example"), MailParameters(smtputf8: true))),
        // Unknown parameters are named, upper-cased.
        ("MAIL FROM:<a@b.example> FOO=bar", .failure(.unknownParameter("FOO"))),
        ("MAIL FROM:<a@b.example> ret=hdrs", .failure(.unknownParameter("RET"))),
        // RFC 4954 §5 AUTH= is accepted and dropped, whatever the identity.
        ("MAIL FROM:<a@b.example> SIZE=1 AUTH=<>", mail(from("a", "b.example"), MailParameters(size: 1))),
        ("MAIL FROM:<a@b.example> auth=user+40b.example", mail(from("a", "b.example"), MailParameters())),
        ("MAIL FROM:<a@b.example> x", .failure(.unknownParameter("X"))),
        // Bad values.
        ("MAIL FROM:<a@b.example> SIZE=abc", .failure(.invalidParameterValue("SIZE"))),
        ("MAIL FROM:<a@b.example> SIZE=", .failure(.invalidParameterValue("SIZE"))),
        ("MAIL FROM:<a@b.example> SIZE", .failure(.invalidParameterValue("SIZE"))),
        ("MAIL FROM:<a@b.example> SIZE=-1", .failure(.invalidParameterValue("SIZE"))),
        ("MAIL FROM:<a@b.example> SIZE=1.5", .failure(.invalidParameterValue("SIZE"))),
        ("MAIL FROM:<a@b.example> SIZE=1e3", .failure(.invalidParameterValue("SIZE"))),
        ("MAIL FROM:<a@b.example> SIZE=٣", .failure(.invalidParameterValue("SIZE"))),
        ("MAIL FROM:<a@b.example> SIZE=99999999999999999999999", .failure(.invalidParameterValue("SIZE"))),
        ("MAIL FROM:<a@b.example> BODY=BINARYMIME", .failure(.invalidParameterValue("BODY"))),
        ("MAIL FROM:<a@b.example> BODY", .failure(.invalidParameterValue("BODY"))),
        ("MAIL FROM:<a@b.example> SMTPUTF8=yes", .failure(.invalidParameterValue("SMTPUTF8"))),
        ("MAIL FROM:<a@b.example> AUTH", .failure(.invalidParameterValue("AUTH"))),
        ("MAIL FROM:<a@b.example> AUTH=", .failure(.invalidParameterValue("AUTH"))),
        // Missing or broken brackets and keywords.
        ("MAIL FROM:a@b.example", .failure(.invalidSender(.missingAngleBrackets))),
        ("MAIL FROM:<a@b.example", .failure(.invalidSender(.missingAngleBrackets))),
        ("MAIL FROM:<a@b.example>SIZE=1", .failure(.invalidSender(.missingAngleBrackets))),
        ("MAIL FROM :<a@b.example>", .failure(.syntax("MAIL FROM:<address> required"))),
        ("MAIL TO:<a@b.example>", .failure(.syntax("MAIL FROM:<address> required"))),
        ("MAIL FROM:", .failure(.invalidSender(.missingAngleBrackets))),
        ("MAIL", .failure(.syntax("MAIL FROM:<address> required"))),
        // Quoted local parts may hide ">" and "@"; address literals; UTF-8; source routes.
        (#"MAIL FROM:<"a>b"@example.org>"#, mail(from(#""a>b""#, "example.org"))),
        (#"MAIL FROM:<"x@y"@example.org> SIZE=5"#, mail(from(#""x@y""#, "example.org"), MailParameters(size: 5))),
        (#"MAIL FROM:<"a\"b>"@example.org>"#, mail(from(#""a\"b>""#, "example.org"))),
        ("MAIL FROM:<user@[127.0.0.1]>", mail(from("user", "[127.0.0.1]"))),
        ("MAIL FROM:<用户@例子.广告> SMTPUTF8", mail(from("用户", "例子.广告"), MailParameters(smtputf8: true))),
        ("MAIL FROM:<josé@exämple.org>", mail(from("josé", "exämple.org"))),
        ("MAIL FROM:<@relay.example:a@b.example>", mail(from("a", "b.example"))),
        // Bad addresses say why.
        ("MAIL FROM:<a..b@example.org>", .failure(.invalidSender(.invalidLocalPart))),
        ("MAIL FROM:<nodomain>", .failure(.invalidSender(.missingDomain))),
        ("MAIL FROM:<a@>", .failure(.invalidSender(.missingDomain))),
        ("MAIL FROM:<a@-b.example>", .failure(.invalidSender(.invalidDomain))),
        ("MAIL FROM:<\(String(repeating: "x", count: 65))@b.example>", .failure(.invalidSender(.tooLong))),
    ]

    @Test("MAIL FROM", arguments: mailCommands)
    func mailFrom(line: String, expected: Parsed) {
        #expect(SMTPCommandParser.parse(bytes(line)) == expected)
    }

    static let rcptCommands: [(String, Parsed)] = [
        ("RCPT TO:<b@example.org>", rcpt("b", "example.org")),
        ("rcpt to:<b@example.org>", rcpt("b", "example.org")),
        ("RCPT TO: <b@example.org>  ", rcpt("b", "example.org")),
        ("RCPT   TO:<b@[IPv6:2001:db8::1]>", rcpt("b", "[IPv6:2001:db8::1]")),
        (#"RCPT TO:<"odd>@one"@example.org>"#, rcpt(#""odd>@one""#, "example.org")),
        ("RCPT TO:<ü@例子.广告>", rcpt("ü", "例子.广告")),
        // No RCPT parameter is advertised, so every one is unknown.
        ("RCPT TO:<b@example.org> NOTIFY=NEVER", .failure(.unknownParameter("NOTIFY"))),
        ("RCPT TO:<b@example.org> orcpt=rfc822;b@example.org", .failure(.unknownParameter("ORCPT"))),
        ("RCPT TO:<b@example.org> SIZE=1", .failure(.unknownParameter("SIZE"))),
        ("RCPT TO:<b@example.org>   x", .failure(.unknownParameter("X"))),
        ("RCPT TO:<>", .failure(.invalidRecipient(.missingDomain))),
        ("RCPT TO:<Postmaster>", .success(.rcpt(to: Mailbox(localPart: "postmaster", domain: ""), parameters: RecipientParameters()))),
        ("RCPT TO:<postMASTER>", .success(.rcpt(to: Mailbox(localPart: "postmaster", domain: ""), parameters: RecipientParameters()))),
        ("RCPT TO:<webmaster>", .failure(.invalidRecipient(.missingDomain))),
        ("RCPT TO:<b@exa mple.org>", .failure(.invalidRecipient(.invalidDomain))),
        ("RCPT TO:<.b@example.org>", .failure(.invalidRecipient(.invalidLocalPart))),
        ("RCPT TO:<b@example..org>", .failure(.invalidRecipient(.invalidDomain))),
        ("RCPT TO:b@example.org", .failure(.invalidRecipient(.missingAngleBrackets))),
        ("RCPT TO:<b@example.org", .failure(.invalidRecipient(.missingAngleBrackets))),
        ("RCPT FROM:<b@example.org>", .failure(.syntax("RCPT TO:<address> required"))),
        ("RCPT", .failure(.syntax("RCPT TO:<address> required"))),
    ]

    @Test("RCPT TO", arguments: rcptCommands)
    func rcptTo(line: String, expected: Parsed) {
        #expect(SMTPCommandParser.parse(bytes(line)) == expected)
    }

    static let lengthAndNUL: [([UInt8], Parsed)] = [
        (bytes("NOOP " + String(repeating: "x", count: 993)), .success(.noop)),  // 998 octets: the most allowed
        (bytes("NOOP " + String(repeating: "x", count: 994)), .failure(.lineTooLong)),
        (bytes("VRFY " + String(repeating: "é", count: 496)), .success(.vrfy(String(repeating: "é", count: 496)))),
        (bytes("VRFY " + String(repeating: "é", count: 497)), .failure(.lineTooLong)),  // 999 octets, 502 characters
        (bytes(String(repeating: "A", count: 5000)), .failure(.lineTooLong)),
        (bytes("NOOP\0"), .failure(.containsNUL)),
        (bytes("\0"), .failure(.containsNUL)),
        (bytes("MAIL FROM:<a\0@b.example>"), .failure(.containsNUL)),
        (bytes("NOOP \0" + String(repeating: "x", count: 993)), .failure(.lineTooLong)),  // length is checked first
    ]

    @Test("line length counts octets; NUL is refused", arguments: lengthAndNUL)
    func lengthAndNULLines(line: [UInt8], expected: Parsed) {
        #expect(SMTPCommandParser.maxLineLength == 1000)
        #expect(SMTPCommandParser.parse(line) == expected)
    }

    @Test("accepts any Collection<UInt8>, e.g. a slice of the input buffer")
    func parsesSlices() {
        let buffer = bytes("xxQUIT\r\n")
        #expect(SMTPCommandParser.parse(buffer[2..<6]) == .success(.quit))
    }

    @Test("invalid UTF-8 in an address is refused")
    func invalidUTF8() {
        let line = bytes("MAIL FROM:<") + [0xFF, 0xFE] + bytes("@example.org> SMTPUTF8")
        guard case .failure = SMTPCommandParser.parse(line) else {
            Issue.record("parsed as \(SMTPCommandParser.parse(line))")
            return
        }
    }

    @Test("HELO/EHLO refuse a domain with control characters")
    func heloControlCharacters() {
        #expect(SMTPCommandParser.parse(bytes("EHLO a\rX-Injected:yes")) == .failure(.syntax("EHLO domain contains control characters")))
        #expect(SMTPCommandParser.parse(bytes("HELO a\tb")) == .failure(.syntax("HELO domain contains control characters")))
    }

    @Test("non-ASCII look-alike verbs are not recognised")
    func unicodeVerbs() {
        #expect(SMTPCommandParser.parse(bytes("QUıT")) == .failure(.unrecognized))
        #expect(SMTPCommandParser.parse(bytes("MAIL FROM:<a@b.example> ſIZE=5")) == .failure(.unknownParameter("ſIZE")))
    }
}

import SMTPProtocol
import Testing

private func x(_ n: Int) -> String { String(repeating: "x", count: n) }
/// A domain of exactly `n` octets made of 63-octet labels (n ≥ 1).
private func domain(octets n: Int) -> String {
    var labels: [String] = []
    var left = n
    while left > 0 {
        let label = min(63, left)
        labels.append(x(label))
        left -= label + 1  // the dot before the next label
        if left == 0 { labels[labels.count - 1].removeLast(); labels.append("y") }  // avoid a trailing dot
    }
    let text = labels.joined(separator: ".")
    precondition(text.utf8.count == n)
    return text
}

@Suite("MailboxParser")
struct MailboxParserTests {
    static let valid: [(String, String, String)] = [
        ("a@b", "a", "b"),
        ("first.last@example.org", "first.last", "example.org"),
        ("User+Tag@Example.ORG", "User+Tag", "Example.ORG"),
        ("!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~", "example.org"),
        ("123@456.example", "123", "456.example"),
        (#""quoted local"@example.org"#, #""quoted local""#, "example.org"),
        (#""a@b"@example.org"#, #""a@b""#, "example.org"),
        (#""a>b"@example.org"#, #""a>b""#, "example.org"),
        (#""a\"b"@example.org"#, #""a\"b""#, "example.org"),
        (#""a\\"@example.org"#, #""a\\""#, "example.org"),
        (#"""@example.org"#, #""""#, "example.org"),
        ("user@[127.0.0.1]", "user", "[127.0.0.1]"),
        ("user@[IPv6:2001:db8::1]", "user", "[IPv6:2001:db8::1]"),
        ("user@sub-domain.example-1.org", "user", "sub-domain.example-1.org"),
        ("用户@例子.广告", "用户", "例子.广告"),
        ("josé@exämple.org", "josé", "exämple.org"),
        ("@a.example,@b.example:user@c.example", "user", "c.example"),
        ("@a.example:user@c.example", "user", "c.example"),
    ]

    @Test("valid mailboxes keep their spelling", arguments: valid)
    func validMailboxes(text: String, local: String, domain: String) {
        #expect(MailboxParser.parse(Substring(text)) == .success(Mailbox(localPart: local, domain: domain)))
    }

    static let invalid: [(String, MailPathError)] = [
        ("", .missingDomain),
        ("user", .missingDomain),
        ("user@", .missingDomain),
        (#""unterminated@example.org"#, .missingDomain),
        (#"a"b@example.org"#, .missingDomain),  // the quote opens a string that never closes
        ("@example.org", .invalidDomain),  // a source route without its colon
        ("@a.example:", .missingDomain),
        ("@x:@example.org", .emptyLocalPart),
        (".a@example.org", .invalidLocalPart),
        ("a.@example.org", .invalidLocalPart),
        ("a..b@example.org", .invalidLocalPart),
        ("a b@example.org", .invalidLocalPart),
        ("a@b@example.org", .invalidLocalPart),
        ("a<b@example.org", .invalidLocalPart),
        ("a\u{7F}@example.org", .invalidLocalPart),
        ("a\r@example.org", .invalidLocalPart),
        (#""a"b@example.org"#, .invalidLocalPart),
        ("\"a\tb\"@example.org", .invalidLocalPart),
        ("\"a\u{7F}\"@example.org", .invalidLocalPart),
        ("a@b..example", .invalidDomain),
        ("a@.example.org", .invalidDomain),
        ("a@example.org.", .invalidDomain),
        ("a@-example.org", .invalidDomain),
        ("a@example-.org", .invalidDomain),
        ("a@ex_ample.org", .invalidDomain),
        ("a@ex ample.org", .invalidDomain),
        ("a@exa\rmple.org", .invalidDomain),
        ("a@[]", .invalidDomain),
        ("a@[127.0.0.1", .invalidDomain),
        ("a@127.0.0.1]", .invalidDomain),
        ("a@[1 2]", .invalidDomain),
        ("a@[a[b]", .invalidDomain),
        (#"a@[a\b]"#, .invalidDomain),
        ("a@[\u{7F}]", .invalidDomain),
    ]

    @Test("invalid mailboxes say why", arguments: invalid)
    func invalidMailboxes(text: String, error: MailPathError) {
        #expect(MailboxParser.parse(Substring(text)) == .failure(error))
    }

    /// RFC 5321 §4.5.3.1: local part 64 octets, label 63, path 256 counting the angle brackets (254 inside).
    static let lengths: [(String, MailPathError?)] = [
        (x(64) + "@example.org", nil),
        (x(65) + "@example.org", .tooLong),
        (String(repeating: "é", count: 32) + "@example.org", nil),  // 64 octets
        (String(repeating: "é", count: 33) + "@example.org", .tooLong),  // 66 octets, 33 characters
        ("a@" + x(63) + ".org", nil),
        ("a@" + x(64) + ".org", .invalidDomain),
        ("a@" + String(repeating: "é", count: 32) + ".org", .invalidDomain),  // a 64-octet label
        (x(64) + "@" + domain(octets: 189), nil),  // 254 octets, 256 with brackets
        (x(64) + "@" + domain(octets: 190), .tooLong),  // 257 with brackets
        ("a@" + domain(octets: 252), nil),  // 256 with brackets
        ("a@" + domain(octets: 253), .tooLong),
        ("@relay.example:" + "a@" + domain(octets: 252), nil),  // the source route does not count
        (x(300), .tooLong),
    ]

    @Test("length limits", arguments: lengths)
    func lengthLimits(text: String, error: MailPathError?) {
        let result = MailboxParser.parse(Substring(text))
        if let error {
            #expect(result == .failure(error))
        } else {
            #expect(throws: Never.self) { try result.get() }
        }
    }

    @Test("the limits are the RFC 5321 numbers")
    func limitConstants() {
        #expect(MailboxParser.maxLocalPartLength == 64)
        #expect(MailboxParser.maxDomainLength == 255)
        #expect(MailboxParser.maxPathLength == 256)
    }

    @Test("parses a slice of a larger string")
    func parsesSubstrings() {
        let line = "<a@example.org> SIZE=1"
        let inside = line.dropFirst().prefix(13)
        #expect(MailboxParser.parse(inside) == .success(Mailbox(localPart: "a", domain: "example.org")))
    }

    static let smtputf8: [(Mailbox, Bool)] = [
        (Mailbox(localPart: "a", domain: "example.org"), false),
        (Mailbox(localPart: "josé", domain: "example.org"), true),
        (Mailbox(localPart: "a", domain: "例子.广告"), true),
        (Mailbox(localPart: "\"~\"", domain: "[127.0.0.1]"), false),
    ]

    @Test("requiresSMTPUTF8 is true exactly when an octet is non-ASCII", arguments: smtputf8)
    func requiresSMTPUTF8(mailbox: Mailbox, expected: Bool) {
        #expect(mailbox.requiresSMTPUTF8 == expected)
    }

    @Test("descriptions")
    func descriptions() {
        let mailbox = Mailbox(localPart: "a", domain: "example.org")
        #expect(mailbox.description == "a@example.org")
        #expect(ReversePath.mailbox(mailbox).description == "<a@example.org>")
        #expect(ReversePath.mailbox(mailbox).address == "a@example.org")
        #expect(ReversePath.null.description == "<>")
        #expect(ReversePath.null.address == "")
    }

    @Test("a local part is one quoted string or one dot-string")
    func malformedQuotedStrings() {
        #expect(MailboxParser.parse(#""a"b"c"@example.org"#) == .failure(.invalidLocalPart))
        #expect(MailboxParser.parse(#""a"."b"@example.org"#) == .failure(.invalidLocalPart))
    }

    @Test("a path including its brackets is at most 256 octets")
    func pathLimitCountsBrackets() {
        #expect(MailboxParser.parse(Substring(x(64) + "@" + domain(octets: 190))) == .failure(.tooLong))
        #expect(MailboxParser.parse(Substring(x(64) + "@" + domain(octets: 189))) == .success(Mailbox(localPart: x(64), domain: domain(octets: 189))))
    }
}

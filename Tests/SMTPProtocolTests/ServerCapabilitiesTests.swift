import SMTPProtocol
import Testing

private func capabilities(_ lines: String...) -> ServerCapabilities { capabilities(lines) }

private func capabilities(_ lines: [String]) -> ServerCapabilities {
    ServerCapabilities(ehloReply: SMTPReply(250, nil, lines: lines))
}

@Suite("ServerCapabilities")
struct ServerCapabilitiesTests {
    @Test("Postfix's EHLO reply")
    func postfix() {
        let offered = capabilities(
            "mx.example", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS", "AUTH PLAIN LOGIN",
            "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING")
        #expect(offered.pipelining)
        #expect(offered.startTLS)
        #expect(offered.maxMessageSize == 10_240_000)
        #expect(offered.sizeExtension)
        #expect(offered.eightBitMIME)
        #expect(offered.smtputf8)
        #expect(offered.enhancedStatusCodes)
        #expect(offered.authMechanisms == ["PLAIN", "LOGIN"])
    }

    @Test("keywords and mechanisms are case-insensitive")
    func lowercase() {
        let offered = capabilities("mx.example", "pipelining", "Size 1000", "starttls", "auth plain cram-md5", "8bitmime", "smtputf8")
        #expect(offered.pipelining && offered.startTLS && offered.eightBitMIME && offered.smtputf8)
        #expect(offered.maxMessageSize == 1000)
        #expect(offered.authMechanisms == ["PLAIN", "CRAM-MD5"])
    }

    @Test("legacy AUTH= and AUTH together, without duplicates")
    func legacyAuth() {
        #expect(capabilities("mx.example", "AUTH=LOGIN").authMechanisms == ["LOGIN"])
        #expect(capabilities("mx.example", "AUTH=LOGIN PLAIN").authMechanisms == ["LOGIN", "PLAIN"])
        #expect(capabilities("mx.example", "AUTH LOGIN PLAIN", "AUTH=LOGIN").authMechanisms == ["LOGIN", "PLAIN"])
        #expect(capabilities("mx.example", "auth=login", "AUTH PLAIN").authMechanisms == ["LOGIN", "PLAIN"])
        #expect(capabilities("mx.example", "AUTH").authMechanisms == [])
        #expect(capabilities("mx.example", "AUTHX PLAIN").authMechanisms == [])
    }

    static let sizes: [(String?, Int?, Bool)] = [
        (nil, nil, false),
        ("SIZE", nil, true),
        ("SIZE 0", nil, true),
        ("SIZE 52428800", 52_428_800, true),
        ("SIZE -5", nil, true),
        ("SIZE lots", nil, true),
        ("SIZE  1000", 1000, true),
    ]

    @Test("SIZE: a limit only when positive; the keyword alone still allows SIZE=", arguments: sizes)
    func size(line: String?, limit: Int?, offered: Bool) {
        let parsed = capabilities(["mx.example", "PIPELINING"] + (line.map { [$0] } ?? []))
        #expect(parsed.maxMessageSize == limit)
        #expect(parsed.sizeExtension == offered)
    }

    @Test("the first line is the server's name, not a keyword")
    func greetingLine() {
        #expect(capabilities("PIPELINING") == .none)
        #expect(capabilities("mx.example says hello") == .none)
        #expect(capabilities("mx.example", "") == .none)
        #expect(capabilities("mx.example", "XFORWARD NAME ADDR", "X-UNKNOWN") == .none)
        #expect(capabilities("mx.example", "PIPELINING") != .none)
    }

    @Test("HELO's none offers nothing")
    func none() {
        let none = ServerCapabilities.none
        #expect(!none.pipelining && !none.startTLS && !none.sizeExtension && !none.eightBitMIME && !none.smtputf8)
        #expect(!none.enhancedStatusCodes && none.maxMessageSize == nil && none.authMechanisms.isEmpty)
    }

    @Test("the preferred mechanism: PLAIN, else LOGIN, else none")
    func preferredMechanism() {
        #expect(SASLMechanism.preferred(among: ["LOGIN", "PLAIN"]) == .plain)
        #expect(SASLMechanism.preferred(among: ["CRAM-MD5", "LOGIN"]) == .login)
        #expect(SASLMechanism.preferred(among: ["CRAM-MD5", "XOAUTH2"]) == nil)
        #expect(SASLMechanism.preferred(among: []) == nil)
    }
}

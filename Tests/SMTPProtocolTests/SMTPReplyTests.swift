import SMTPProtocol
import Testing

@Suite("SMTPReply and EnhancedStatusCode")
struct SMTPReplyTests {
    static let wire: [(SMTPReply, String)] = [
        (SMTPReply(250, nil, "Ok"), "250 Ok\r\n"),
        (SMTPReply(250, EnhancedStatusCode(2, 1, 0), "Ok"), "250 2.1.0 Ok\r\n"),
        (SMTPReply(354, nil, "End data with <CR><LF>.<CR><LF>"), "354 End data with <CR><LF>.<CR><LF>\r\n"),
        (SMTPReply(220, nil, ""), "220 \r\n"),
        (SMTPReply(250, nil, lines: ["mx.example", "PIPELINING", "SMTPUTF8"]),
         "250-mx.example\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n"),
        // RFC 2034 §4: every line of a multi-line reply carries the enhanced code.
        (SMTPReply(452, EnhancedStatusCode(4, 3, 1), lines: ["Insufficient storage", "try later"]),
         "452-4.3.1 Insufficient storage\r\n452 4.3.1 try later\r\n"),
        (SMTPReply(550, EnhancedStatusCode(5, 1, 1), "<jos\u{E9}@x.example> unknown"), "550 5.1.1 <jos\u{E9}@x.example> unknown\r\n"),
    ]

    @Test("wire form", arguments: wire)
    func wireBytes(reply: SMTPReply, expected: String) {
        #expect(reply.wireBytes == bytes(expected))
    }

    static let descriptions: [(SMTPReply, String)] = [
        (SMTPReply(250, nil, "Ok"), "250 Ok"),
        (SMTPReply(550, EnhancedStatusCode(5, 1, 1), "no such user"), "550 5.1.1 no such user"),
        (SMTPReply(250, nil, lines: ["a", "b", "c"]), "250 a / b / c"),
    ]

    @Test("one-line description for logs", arguments: descriptions)
    func description(reply: SMTPReply, expected: String) {
        #expect(reply.description == expected)
    }

    static let classes: [(Int, positive: Bool, transient: Bool, permanent: Bool)] = [
        (199, false, false, false), (200, true, false, false), (250, true, false, false), (299, true, false, false),
        (354, false, false, false), (399, false, false, false), (400, false, true, false), (421, false, true, false),
        (499, false, true, false), (500, false, false, true), (554, false, false, true), (599, false, false, true),
        (600, false, false, false),
    ]

    @Test("reply classes", arguments: classes)
    func replyClass(code: Int, positive: Bool, transient: Bool, permanent: Bool) {
        let reply = SMTPReply(code, nil, "x")
        #expect(reply.isPositive == positive)
        #expect(reply.isTransient == transient)
        #expect(reply.isPermanent == permanent)
    }

    @Test("the two initialisers agree for one line; equality sees every field")
    func equality() {
        #expect(SMTPReply(250, nil, "Ok") == SMTPReply(250, nil, lines: ["Ok"]))
        #expect(SMTPReply(250, nil, "Ok") != SMTPReply(251, nil, "Ok"))
        #expect(SMTPReply(250, nil, "Ok") != SMTPReply(250, EnhancedStatusCode(2, 0, 0), "Ok"))
        #expect(SMTPReply(250, nil, "Ok") != SMTPReply(250, nil, "OK"))
        #expect(SMTPReply(250, nil, lines: ["a", "b"]) != SMTPReply(250, nil, lines: ["a b"]))
    }

    static let enhancedCodes: [(String, EnhancedStatusCode?)] = [
        ("2.0.0", EnhancedStatusCode(2, 0, 0)),
        ("4.4.2", EnhancedStatusCode(4, 4, 2)),
        ("5.7.1", EnhancedStatusCode(5, 7, 1)),
        ("5.999.999", EnhancedStatusCode(5, 999, 999)),
        ("5.1.10", EnhancedStatusCode(5, 1, 10)),
        ("", nil),
        ("5", nil),
        ("5.1", nil),
        ("5.1.1.1", nil),
        ("5.1.", nil),
        ("5..1", nil),
        (".1.1", nil),
        ("1.0.0", nil),
        ("3.0.0", nil),
        ("6.0.0", nil),
        ("5.1000.0", nil),
        ("5.0.1000", nil),
        ("a.b.c", nil),
        (" 5.1.1", nil),
        ("5.1.1 ", nil),
        ("5.1.-1", nil),
    ]

    @Test("parses x.y.z", arguments: enhancedCodes)
    func parseEnhanced(text: String, expected: EnhancedStatusCode?) {
        #expect(EnhancedStatusCode(text) == expected)
        #expect(EnhancedStatusCode(text[...]) == expected)
    }

    @Test("description round-trips", arguments: [EnhancedStatusCode(2, 0, 0), EnhancedStatusCode(5, 3, 4), EnhancedStatusCode(4, 999, 10)])
    func enhancedRoundTrip(code: EnhancedStatusCode) {
        #expect(EnhancedStatusCode(code.description) == code)
    }

    @Test("reading an upstream reply's first word")
    func parseFromReplyText() {
        let text = "5.7.1 Relay access denied"
        #expect(EnhancedStatusCode(text.split(separator: " ")[0]) == EnhancedStatusCode(5, 7, 1))
        #expect(EnhancedStatusCode(text) == nil)
    }

    @Test("only digits are accepted")
    func signsAndZeros() {
        #expect(EnhancedStatusCode("+5.1.1") == nil)
        #expect(EnhancedStatusCode("5.+1.1") == nil)
        #expect(EnhancedStatusCode("5.-0.0") == nil)
        #expect(EnhancedStatusCode("05.1.1") == nil)
    }
}

import Testing
import Transport

@Suite("ListenAddress")
struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:2525", "127.0.0.1", 2525), ("0.0.0.0:25", "0.0.0.0", 25), ("[::]:25", "::", 25),
        ("[::1]:587", "::1", 587), ("[fe80::1%eth0]:25", "fe80::1%eth0", 25),
        ("mail.example.com:587", "mail.example.com", 587), ("localhost:0", "localhost", 0),
        ("smtp-relay.brevo.com:65535", "smtp-relay.brevo.com", 65535), ("host:025", "host", 25),
    ] as [(String, String, UInt16)])
    func parses(text: String, host: String, port: UInt16) throws {
        let address = try #require(ListenAddress(text))
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(ListenAddress(address.description) == address, "description parses back")
    }

    @Test(arguments: [
        "", "127.0.0.1", "127.0.0.1:", ":25", "::1:25", "::1", "[::1]", "[::1]25", "[]:25", "[::1:25",
        "host:65536", "host:-1", "host:+25", "host:25x", "host: 25", "host:0x19", "a:b:25", "[::1]:25]",
    ])
    func rejectsMalformed(text: String) {
        #expect(ListenAddress(text) == nil, "\(text)")
    }

    @Test func descriptionBracketsIPv6() {
        #expect(ListenAddress(host: "::1", port: 25).description == "[::1]:25")
        #expect(ListenAddress(host: "127.0.0.1", port: 25).description == "127.0.0.1:25")
        #expect(ListenAddress(host: "mx.example", port: 2525).description == "mx.example:2525")
    }
}

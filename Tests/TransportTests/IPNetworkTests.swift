import Testing
import Transport

@Suite("IPNetwork")
struct IPNetworkTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3/8", "10.0.0.0/8"),  // host bits are cleared
        ("192.168.1.77", "192.168.1.77/32"),
        ("172.16.0.0/12", "172.16.0.0/12"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("127.0.0.1/08", "127.0.0.0/8"),
        ("10.0.0.0/008", "10.0.0.0/8"),  // up to three ASCII digits, leading zeros included
        ("10.0.0.0/000", "0.0.0.0/0"),
        ("2001:db8::/032", "2001:db8::/32"),
        ("::1", "::1/128"),
        ("[::1]", "::1/128"),
        ("fc00::/7", "fc00::/7"),
        ("fdff:1234::1/7", "fc00::/7"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("::/0", "::/0"),
        ("::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"),
    ])
    func parses(text: String, canonical: String) throws {
        let network = try #require(IPNetwork(text))
        #expect(network.description == canonical)
        #expect(IPNetwork(canonical) == network)
    }

    @Test(arguments: [
        "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0/ 8",
        "10.0.0/8", "10.0.0.256/8", "10.0.0.0/x", "::/129", "fc00::/-7", "example.com/8", "localhost",
        " 10.0.0.0/8", "10.0.0.0/8 ", "1.2.3.4/99999999999999999999",
        // The prefix is 1-3 ASCII digits, nothing else: no sign (a "-0" typo would be /0, an open relay),
        // no fourth digit, no other script's digits.
        "10.0.0.0/-0", "10.0.0.0/+0", "::1/-0", "::/+0", "10.0.0.0/0008", "::/0128", "10.0.0.0/8.0",
        "10.0.0.0/\u{FF18}", "10.0.0.0/\u{0668}", "10.0.0.0/0x8", "10.0.0.0/8\n",
    ])
    func rejectsMalformed(text: String) {
        #expect(IPNetwork(text) == nil, "\(text)")
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0", true), ("10.0.0.0/8", "10.255.255.255", true), ("10.0.0.0/8", "11.0.0.0", false),
        ("10.0.0.0/8", "9.255.255.255", false),
        ("172.16.0.0/12", "172.31.255.255", true), ("172.16.0.0/12", "172.32.0.0", false),
        ("172.16.0.0/12", "172.15.255.255", false),
        ("192.168.1.77", "192.168.1.77", true), ("192.168.1.77", "192.168.1.78", false),
        ("0.0.0.0/0", "203.0.113.9", true), ("0.0.0.0/0", "::1", false),
        ("::1", "::1", true), ("::1", "::2", false), ("::1", "127.0.0.1", false),
        ("fc00::/7", "fd00::2", true), ("fc00::/7", "fdff:ffff::1", true), ("fc00::/7", "fe00::1", false),
        ("fc00::/7", "fbff::1", false),
        ("::/0", "2001:db8::1", true),
        // IPv4-mapped IPv6 (a dual-stack socket's view of an IPv4 client) matches IPv4 networks.
        ("10.0.0.0/8", "::ffff:10.1.2.3", true), ("10.0.0.0/8", "::ffff:11.1.2.3", false),
        ("127.0.0.0/8", "::ffff:127.0.0.1", true),
        // IPv4-compatible (deprecated) and NAT64 addresses are not IPv4.
        ("10.0.0.0/8", "::10.1.2.3", false), ("10.0.0.0/8", "64:ff9b::10.1.2.3", false),
    ])
    func contains(network: String, address: String, expected: Bool) throws {
        let net = try #require(IPNetwork(network))
        let bytes = try #require(IPNetwork.parseAddress(address))
        #expect(net.contains(bytes) == expected, "\(network) ∋ \(address)")
    }

    @Test func containsRejectsOddByteCounts() throws {
        let net = try #require(IPNetwork("0.0.0.0/0"))
        #expect(!net.contains([]))
        #expect(!net.contains([1, 2, 3]))
        #expect(!net.contains([1, 2, 3, 4, 5]))
    }

    @Test(arguments: [
        ("127.0.0.1", [127, 0, 0, 1] as [UInt8]), ("[::1]", [UInt8](repeating: 0, count: 15) + [1]),
        ("::ffff:1.2.3.4", [UInt8](repeating: 0, count: 10) + [0xff, 0xff, 1, 2, 3, 4]),
    ])
    func parseAndFormatAddresses(text: String, bytes: [UInt8]) {
        #expect(IPNetwork.parseAddress(text) == bytes)
        #expect(IPNetwork.parseAddress(IPNetwork.format(bytes)) == bytes)
    }

    @Test func formatsLikeInetNtop() {
        #expect(IPNetwork.format([192, 0, 2, 1]) == "192.0.2.1")
        #expect(IPNetwork.format([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]) == "2001:db8::1")
    }
}

import Receiving
import Testing
import Transport

@Suite("RelayPolicy")
struct RelayPolicyTests {
    static let defaults = RelayPolicy(allowedNetworks: [
        "127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
    ].compactMap(IPNetwork.init))

    static func peer(_ text: String) -> PeerAddress {
        PeerAddress(bytes: IPNetwork.parseAddress(text)!, port: 40_000)
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("127.255.255.254", true), ("::1", true), ("10.20.30.40", true),
        ("172.16.0.1", true), ("172.31.255.255", true), ("172.32.0.1", false), ("192.168.200.1", true),
        ("192.169.0.1", false), ("fd00::2", true), ("fe80::1", false), ("8.8.8.8", false),
        ("2001:db8::1", false), ("::ffff:10.0.0.1", true), ("::ffff:8.8.8.8", false), ("0.0.0.0", false),
        ("255.255.255.255", false),
    ])
    func defaultNetworks(address: String, allowed: Bool) {
        #expect(Self.defaults.allowsRelay(from: Self.peer(address)) == allowed, "\(address)")
    }

    @Test func emptyPolicyAllowsNobody() {
        let policy = RelayPolicy(allowedNetworks: [])
        for address in ["127.0.0.1", "::1", "10.0.0.1"] {
            #expect(!policy.allowsRelay(from: Self.peer(address)))
        }
    }

    @Test func catchAllNetworksAreFamilySpecific() {
        let v4 = RelayPolicy(allowedNetworks: [IPNetwork("0.0.0.0/0")!])
        let v6 = RelayPolicy(allowedNetworks: [IPNetwork("::/0")!])
        #expect(v4.allowsRelay(from: Self.peer("203.0.113.5")))
        #expect(!v4.allowsRelay(from: Self.peer("2001:db8::5")))
        #expect(v6.allowsRelay(from: Self.peer("2001:db8::5")))
        // A dual-stack listener reports IPv4 clients as IPv4, so ::/0 does not cover them.
        #expect(!v6.allowsRelay(from: Self.peer("203.0.113.5")))
    }

    @Test func singleHost() {
        let policy = RelayPolicy(allowedNetworks: [IPNetwork("192.0.2.10")!])
        #expect(policy.allowsRelay(from: Self.peer("192.0.2.10")))
        #expect(!policy.allowsRelay(from: Self.peer("192.0.2.11")))
    }
}

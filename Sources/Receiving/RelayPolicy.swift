import Transport

/// Who may relay through us: clients inside the allowed networks. Never an open relay.
public struct RelayPolicy: Sendable {
    public var allowedNetworks: [IPNetwork]

    public init(allowedNetworks: [IPNetwork]) {
        self.allowedNetworks = allowedNetworks
    }

    public func allowsRelay(from peer: PeerAddress) -> Bool {
        allowedNetworks.contains { $0.contains(peer.bytes) }
    }
}

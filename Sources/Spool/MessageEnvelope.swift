import FoundationEssentials

/// What relayd knows about a message at the moment it is accepted; written once, never changed.
public struct MessageEnvelope: Sendable, Codable, Equatable {
    public var id: QueueID
    /// The MAIL FROM address without brackets; empty for the null sender.
    public var sender: String
    public var recipients: [String]
    /// Seconds since the Unix epoch.
    public var receivedAt: Double
    public var clientAddress: String
    public var clientName: String
    /// BODY=8BITMIME and SMTPUTF8 as the client declared them, so delivery can declare them upstream.
    public var eightBitMIME: Bool
    public var smtputf8: Bool

    public init(
        id: QueueID, sender: String, recipients: [String], receivedAt: Double, clientAddress: String,
        clientName: String, eightBitMIME: Bool, smtputf8: Bool
    ) {
        self.id = id
        self.sender = sender
        self.recipients = recipients
        self.receivedAt = receivedAt
        self.clientAddress = clientAddress
        self.clientName = clientName
        self.eightBitMIME = eightBitMIME
        self.smtputf8 = smtputf8
    }
}

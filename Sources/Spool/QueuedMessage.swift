/// A committed message as the queue sees it: its envelope, delivery state and size on disk.
public struct QueuedMessage: Sendable, Equatable {
    public var envelope: MessageEnvelope
    public var state: DeliveryState
    public var size: Int
    /// Whether a `.state` file was found for it.
    public var hasStateFile: Bool
    public var id: QueueID { envelope.id }

    public init(envelope: MessageEnvelope, state: DeliveryState, size: Int, hasStateFile: Bool = false) {
        self.envelope = envelope
        self.state = state
        self.size = size
        self.hasStateFile = hasStateFile
    }
}

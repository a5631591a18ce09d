/// A committed message as the queue sees it: its envelope, delivery state and size on disk.
public struct QueuedMessage: Sendable, Equatable {
    public var envelope: MessageEnvelope
    public var state: DeliveryState
    public var size: Int
    public var id: QueueID { envelope.id }

    public init(envelope: MessageEnvelope, state: DeliveryState, size: Int) {
        self.envelope = envelope
        self.state = state
        self.size = size
    }
}

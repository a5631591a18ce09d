/// A finished message kept in `failed/` because at least one recipient failed for good: what `relayctl`
/// lists and shows until the message is purged.
public struct FailedMessage: Sendable, Equatable {
    public var envelope: MessageEnvelope
    /// The state it finished with; nil when that was lost (an operator removed it, or it did not decode).
    public var state: DeliveryState?
    /// Message bytes on disk (the body as accepted, without the spool's preamble and envelope line).
    public var size: Int
    /// When it was retired into `failed/`, in seconds since the epoch: the modification time of its state.
    public var failedAt: Double
    public var id: QueueID { envelope.id }

    public init(envelope: MessageEnvelope, state: DeliveryState?, size: Int, failedAt: Double) {
        self.envelope = envelope
        self.state = state
        self.size = size
        self.failedAt = failedAt
    }
}

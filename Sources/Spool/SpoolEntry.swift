/// A committed message as `SpoolReader` finds it on disk, in `queue/` or kept in `failed/`.
public struct SpoolEntry: Sendable, Equatable {
    /// Which folder holds the message.
    public enum Location: String, Sendable, Equatable {
        case queue, failed
    }

    public var envelope: MessageEnvelope
    /// The recorded delivery state; a fresh one (no attempt yet) when there is no readable `.state` file.
    public var state: DeliveryState
    /// Whether a readable `.state` file was found.
    public var hasStateFile: Bool
    /// Message bytes (the body as accepted, without the spool's preamble and envelope line).
    public var size: Int
    public var location: Location
    /// For `.failed`: when it was retired into `failed/`, in seconds since the epoch. Nil in the queue.
    public var failedAt: Double?
    public var id: QueueID { envelope.id }

    public init(
        envelope: MessageEnvelope, state: DeliveryState, hasStateFile: Bool, size: Int, location: Location,
        failedAt: Double? = nil
    ) {
        self.envelope = envelope
        self.state = state
        self.hasStateFile = hasStateFile
        self.size = size
        self.location = location
        self.failedAt = failedAt
    }
}

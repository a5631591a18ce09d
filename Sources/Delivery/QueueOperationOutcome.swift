/// What an operator's request (`relayctl hold`, `release`, `delete`, `flush`) did to one message.
public enum QueueOperationOutcome: Sendable, Equatable, Codable {
    /// Held, released, deleted, or made ready now.
    case done
    /// No such message: not in `queue/` (for a delete, not in `failed/` either).
    case notFound
    /// The request waited for an attempt in flight, and that attempt finished the message: it went out, or
    /// finished as failed and is kept in `failed/`. Nothing was changed.
    case alreadyDelivered
    /// Nothing to do, and why: "not held", "already held", "held: release it first".
    case unchanged(String)
    /// The spool could not record the change (a disk error, named); nothing was changed.
    case failed(String)
}

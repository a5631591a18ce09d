import Spool

/// What answers the control channel's requests: relayd's queue (which adapts its delivery runner to this),
/// or `SpoolInspector` alone when only reading. `ControlServer` calls one method per request; a method
/// throws `ControlError` for the error reply (`SpoolError.notFound` becomes `not_found`, anything else
/// `internal`).
public protocol ControlHandler: Sendable {
    /// Streams the messages `filter` matches, oldest first, through `emit`, and returns their summary.
    /// An error `emit` throws (the client went away) must be passed on.
    func queue(_ filter: QueueFilter, emit: (QueueEntry) async throws -> Void) async throws -> QueueSummary

    /// One message's envelope, state and header section.
    func show(_ id: QueueID) async throws(ControlError) -> MessageDetail

    /// One message's bytes as queued.
    func showRaw(_ id: QueueID) async throws(ControlError) -> RawMessage

    /// Makes the given messages (nil: every queued one) due now, whatever their retry schedule.
    func flush(_ ids: [QueueID]?) async throws(ControlError) -> ChangeReport

    /// Stops the given messages from being tried until released.
    func hold(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport

    /// Lets held messages be tried again.
    func release(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport

    /// Deletes the given messages (queued or failed) without delivering or bouncing them.
    func delete(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport

    /// Deletes every message in `state`.
    func delete(state: ControlRequest.DeletableState) async throws(ControlError) -> ChangeReport

    /// Counts, last hour's outcomes, upstream health.
    func stats() async throws(ControlError) -> QueueStatistics

    /// Waits until an attempt to deliver `id` ends (the one in progress, else the next) and returns how it
    /// went; nil when none ended within `timeout`.
    func awaitOutcome(_ id: QueueID, timeout: Duration) async throws(ControlError) -> AttemptOutcome?

    /// Reads the configuration again and switches to it if it is usable; a refusal is a report, not an error.
    func reload() async throws(ControlError) -> ReloadReport
}

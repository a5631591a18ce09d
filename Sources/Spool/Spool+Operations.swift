#if canImport(Glibc)
import Glibc
#endif

/// An operator's changes to single messages (`relayctl delete`, `hold`, `release`).
///
/// These calls are not coordinated with delivery: the queue runner's operations take the message from its
/// index first, so no attempt is in flight while they run. Each is durable before it returns, because an
/// operator who was told "deleted" or "held" must not see the message go out after a crash.
extension Spool {
    /// Deletes a queued message, whatever its state: the message file first (to the recycler, like a
    /// delivered one), then its state, so a crash in between leaves only a stale `.state`, which the next
    /// scan drops, never a state that outlives its message. One group-commit `syncfs` then makes the
    /// removal durable: unlike a purge, a delete a crash undid would deliver a message the operator had
    /// stopped. Throws `.notFound` when `queue/` has no such message.
    public func delete(_ id: QueueID) async throws(SpoolError) {
        let layout = self.layout
        let recycler = self.recycler
        freshMessages.evict(id)
        try await io.run { () throws(SpoolError) in
            guard try recycler.retire(layout.messagePath(id)) else { throw .notFound(id) }
            if unlink(layout.statePath(id)) != 0, errno != ENOENT {
                throw SpoolError.fromErrno("unlink", layout.statePath(id))
            }
        }
        statefulIDs.withLock { _ = $0.remove(id) }
        catalog.removed(id)
        try await commitQueue.commit { () throws(SpoolError) in }
    }

    /// Deletes a message kept in `failed/` with its final state, message first (a state left alone by a
    /// crash is skipped by listings and purged once old), and waits until that is durable. Throws
    /// `.notFound` when `failed/` has no such message.
    public func deleteFailed(_ id: QueueID) async throws(SpoolError) {
        let layout = self.layout
        let recycler = self.recycler
        try await io.run { () throws(SpoolError) in
            guard try recycler.retire(layout.failedMessagePath(id)) else { throw .notFound(id) }
            if unlink(layout.failedStatePath(id)) != 0, errno != ENOENT {
                throw SpoolError.fromErrno("unlink", layout.failedStatePath(id))
            }
        }
        catalog.removed(id)
        try await commitQueue.commit { () throws(SpoolError) in }
    }

    /// The delivery state of a queued message: the recorded one, or a fresh one (every recipient pending)
    /// before its first recorded attempt. Throws `.notFound` when `queue/` has no such message. Reads only
    /// the message's header, not its body.
    public func state(of id: QueueID) async throws(SpoolError) -> DeliveryState {
        let path = layout.messagePath(id)
        let envelope = try await io.run { () throws(SpoolError) -> MessageEnvelope in
            let file = try Spool.openMessageFile(path, id: id)
            defer { file.close() }
            return try MessageFileFormat.readHeader(file).envelope
        }
        return try await loadState(id) ?? DeliveryState(recipients: envelope.recipients)
    }

    /// Holds a queued message (delivery skips it until released, also after a restart: the flag lives in
    /// its state file) or releases it, due at once. Returns the state as written, atomically and durably
    /// like every state rewrite. Throws `.notFound` when `queue/` has no such message.
    ///
    /// Should the message be removed between the check and the write (the caller did not take it from the
    /// queue runner first), the state written is a stale one without its message, which the next scan drops.
    @discardableResult
    public func setHeld(_ held: Bool, for id: QueueID) async throws(SpoolError) -> DeliveryState {
        var state = try await state(of: id)
        state.held = held
        if !held { state.nextAttemptAt = 0 }
        try await writeState(state, for: id)
        return state
    }
}

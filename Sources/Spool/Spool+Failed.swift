#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

extension Spool {
    /// How long relayd keeps failed messages unless configured otherwise: 7 days, so a sender's "did my
    /// mail go out?" a few days later can still be answered, and a bad week does not fill the disk.
    public static let defaultFailedRetention: Double = 7 * 86_400

    /// Moves a finished message with at least one failed recipient from `queue/` into `failed/`, with the
    /// state it finished with, instead of deleting it. Throws `.notFound` when it is in neither directory.
    ///
    /// The state goes first and is durable on its own (temp file, fsync, rename, directory fsync), so a
    /// message in `failed/` always has its state. Then the message file is renamed in a group commit whose
    /// `syncfs` makes the rename durable before this returns. That rename is the commit point: the message
    /// is in exactly one of the two directories at every instant. A crash before it leaves the message
    /// queued (it is tried again; at worst its sender gets a second bounce) and perhaps a `failed/<id>.state`
    /// without a message, which listings skip, a later retire replaces and `purgeFailed` removes once old.
    /// The file itself moves, so no inode is freed or allocated and the recycler is not involved.
    public func retireFailed(_ id: QueueID, state: DeliveryState) async throws(SpoolError) {
        let layout = self.layout
        freshMessages.evict(id)
        let bytes: [UInt8]
        do { bytes = Array(try JSONEncoder().encode(state)) } catch {
            throw .corrupt(path: layout.failedStatePath(id), reason: "cannot encode state: \(error)")
        }
        try await io.run { () throws(SpoolError) in
            try POSIXFile.replaceAtomically(
                layout.failedStatePath(id), with: bytes, temporary: "\(layout.incoming)/\(id).failed.tmp")
        }
        try await commitQueue.commit { () throws(SpoolError) in
            if Glibc.rename(layout.messagePath(id), layout.failedMessagePath(id)) != 0 {
                let code = errno
                guard code == ENOENT else { throw SpoolError.fromErrno("rename", layout.messagePath(id), code) }
                // Retired already (a repeated call): done, with the newer state. Otherwise nothing to keep.
                if access(layout.failedMessagePath(id), F_OK) == 0 { return }
                unlink(layout.failedStatePath(id))
                throw .notFound(id)
            }
            // The queue's copy of the state is stale now; should this fail, the next scan drops it.
            unlink(layout.statePath(id))
        }
        statefulIDs.withLock { _ = $0.remove(id) }
        catalog.retired(id, state: state, at: Date().timeIntervalSince1970)
    }

    /// Every message kept in `failed/`, oldest id first, with entries that could not be read (left in place
    /// for an operator; a listing never moves files).
    public func failedMessages() async throws(SpoolError) -> (messages: [FailedMessage], unreadable: [SpoolError]) {
        let layout = self.layout
        return try await io.run { () throws(SpoolError) in try FailedFolder(layout: layout).list() }
    }

    /// The bytes of a message kept in `failed/`, exactly as accepted, and its envelope.
    public func readFailed(_ id: QueueID) async throws(SpoolError) -> (envelope: MessageEnvelope, body: [UInt8]) {
        let path = layout.failedMessagePath(id)
        return try await io.run { () throws(SpoolError) in try Spool.readMessageFile(path, id: id) }
    }

    /// Deletes the failed messages retired before `cutoff` (seconds since the epoch) and returns how many.
    /// Their files go to the recycler like delivered ones, so purging a bad week's failures at once does not
    /// hand the file system thousands of freshly freed inodes. Nothing here needs a sync: a purge a crash
    /// undoes is simply done again.
    public func purgeFailed(olderThan cutoff: Double) async throws(SpoolError) -> Int {
        let layout = self.layout
        let recycler = self.recycler
        let purged = try await io.run { () throws(SpoolError) in
            try FailedFolder(layout: layout).purge(olderThan: cutoff, recycler: recycler)
        }
        for id in purged { catalog.removed(id) }
        return purged.count
    }
}

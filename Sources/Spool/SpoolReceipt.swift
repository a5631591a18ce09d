#if canImport(Glibc)
import Glibc
#endif

/// One message being received: collects the body, spills it to a file from `recycle/` when it grows large,
/// and commits it into the queue. Owned by the session task that receives the message.
public final class SpoolReceipt: @unchecked Sendable {
    /// Bodies up to this size stay in memory until commit, so small messages cost one write at commit.
    public static let spillThreshold = 256 * 1024

    public let envelope: MessageEnvelope
    public var id: QueueID { envelope.id }
    private let spool: Spool
    private var pending: [UInt8] = []
    private var file: POSIXFile?
    private var bodySize = 0
    private var finished = false

    init(envelope: MessageEnvelope, spool: Spool) {
        self.envelope = envelope
        self.spool = spool
    }

    deinit {
        if let file, !finished {
            // Dropped without commit or abandon (the session died): nothing acknowledged, give the file back.
            file.close()
            spool.recycler.giveBack(file.path)
        }
    }

    /// Adds body bytes. Memory stays bounded: past the threshold the bytes go to disk on a disk thread.
    public func append(_ bytes: some Collection<UInt8>) async throws(SpoolError) {
        pending.append(contentsOf: bytes)
        bodySize += bytes.count
        if pending.count >= SpoolReceipt.spillThreshold { try await spill() }
    }

    private func spill() async throws(SpoolError) {
        let chunk = pending
        pending.removeAll(keepingCapacity: true)
        let existing = file
        let recycler = spool.recycler
        let header = try headerBytes(bodySize: 0)
        file = nil  // on failure the file has been given back already
        file = try await spool.io.run { () throws(SpoolError) -> POSIXFile in
            let target: POSIXFile
            if let existing { target = existing } else { target = try recycler.take() }
            do throws(SpoolError) {
                if existing == nil { try target.write(header) }
                try target.write(chunk)
            } catch {
                target.close()
                recycler.giveBack(target.path)
                throw error
            }
            return target
        }
    }

    /// Makes the message durable in the queue; returns only after the group commit's sync.
    public func commit() async throws(SpoolError) -> QueueID {
        let layout = spool.layout
        let id = self.id
        let preamble = MessageFileFormat.preamble(bodySize: bodySize)
        let header = try headerBytes(bodySize: bodySize)  // before taking ownership: a throw here leaves cleanup to deinit
        finished = true
        let chunk = pending
        pending = []
        let existing = file
        let recycler = spool.recycler
        file = nil
        // Written in a recycled file and renamed into queue/ by the commit thread; the batch's syncfs makes
        // data and rename durable together before anyone hears 250.
        try await spool.commitQueue.commit { () throws(SpoolError) in
            let target: POSIXFile
            if let existing { target = existing } else { target = try recycler.take() }
            do throws(SpoolError) {
                if existing != nil {
                    try target.write(chunk)
                    try target.write(preamble, at: 0)
                } else {
                    try target.write(header + chunk)
                }
            } catch {
                target.close()
                recycler.giveBack(target.path)
                throw error
            }
            target.close()  // exactly once: a second close could hit a descriptor another thread just opened
            do throws(SpoolError) {
                try POSIXFile.rename(target.path, to: layout.messagePath(id))
            } catch {
                recycler.giveBack(target.path)
                throw error
            }
        }
        if existing == nil { spool.freshMessages.insert(envelope, body: chunk) }
        spool.catalog.added(envelope, size: bodySize)
        spool.announce(id)
        return id
    }

    /// Discards the receipt (the message was refused); nothing of it stays on disk.
    public func abandon() async {
        finished = true
        pending = []
        guard let file else { return }
        self.file = nil
        let recycler = spool.recycler
        await spool.io.run {
            file.close()
            recycler.giveBack(file.path)
        }
    }

    private func headerBytes(bodySize: Int) throws(SpoolError) -> [UInt8] {
        do {
            return MessageFileFormat.preamble(bodySize: bodySize) + (try MessageFileFormat.envelopeLine(envelope))
        } catch {
            throw .corrupt(path: spool.layout.messagePath(id), reason: "cannot encode envelope: \(error)")
        }
    }
}

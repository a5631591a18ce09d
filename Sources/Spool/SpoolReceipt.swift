#if canImport(Glibc)
import Glibc
#endif

/// One message being received: collects the body, spills it to `incoming/` when it grows large, and commits
/// it into the queue. Owned by the session task that receives the message.
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
            // Dropped without commit or abandon (the session died): nothing acknowledged, remove it.
            file.close()
            unlink(file.path)
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
        let path = spool.layout.incomingPath(id)
        let header = try headerBytes(bodySize: 0)
        file = try await spool.io.run { () throws(SpoolError) -> POSIXFile in
            let target: POSIXFile
            if let existing { target = existing } else {
                target = try POSIXFile.create(path)
                try target.write(header)
            }
            try target.write(chunk)
            return target
        }
    }

    /// Makes the message durable in the queue; returns only after the group commit's sync.
    public func commit() async throws(SpoolError) -> QueueID {
        finished = true
        let layout = spool.layout
        let id = self.id
        let chunk = pending
        pending = []
        let existing = file
        let preamble = MessageFileFormat.preamble(bodySize: bodySize)
        let header = try headerBytes(bodySize: bodySize)
        try await spool.commitQueue.commit { () throws(SpoolError) in
            let incoming = layout.incomingPath(id)
            do throws(SpoolError) {
                if let existing {
                    try existing.write(chunk)
                    try existing.write(preamble, at: 0)
                    existing.close()
                } else {
                    let target = try POSIXFile.create(incoming)
                    defer { target.close() }
                    try target.write(header + chunk)
                }
                try POSIXFile.rename(incoming, to: layout.messagePath(id))
            } catch {
                unlink(incoming)
                throw error
            }
        }
        spool.announce(id)
        return id
    }

    /// Discards the receipt (the message was refused); nothing of it stays on disk.
    public func abandon() async {
        finished = true
        pending = []
        guard let file else { return }
        self.file = nil
        await spool.io.run {
            file.close()
            unlink(file.path)
        }
    }

    private func headerBytes(bodySize: Int) throws(SpoolError) -> [UInt8] {
        do {
            return MessageFileFormat.preamble(bodySize: bodySize) + (try MessageFileFormat.envelopeLine(envelope))
        } catch {
            throw .corrupt(path: spool.layout.incomingPath(id), reason: "cannot encode envelope: \(error)")
        }
    }
}

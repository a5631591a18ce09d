import Threading

/// The bytes of messages just committed, kept until their first delivery attempt reads them, so fresh mail
/// goes out without a disk read and an envelope decode.
///
/// Only a hint: a message that does not fit, or whose entry was taken, is read from its queue file as
/// usual. The queue file is written once and never changed, so an entry can never disagree with it. Memory is
/// bounded by `capacity` bytes; when acceptance outruns delivery the cache simply stops taking new entries.
final class FreshMessageCache: Sendable {
    private struct Contents {
        var entries: [QueueID: (envelope: MessageEnvelope, body: [UInt8])] = [:]
        var bytes = 0
    }

    private let capacity: Int
    private let contents = Locked(Contents())

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Keeps `body` for `envelope.id` if there is room.
    func insert(_ envelope: MessageEnvelope, body: [UInt8]) {
        contents.withLock { contents in
            guard contents.bytes + body.count <= capacity else { return }
            contents.bytes += body.count
            contents.entries[envelope.id] = (envelope, body)
        }
    }

    /// The cached message, removed from the cache: later attempts read the queue file.
    func take(_ id: QueueID) -> (envelope: MessageEnvelope, body: [UInt8])? {
        contents.withLock { contents in
            guard let entry = contents.entries.removeValue(forKey: id) else { return nil }
            contents.bytes -= entry.body.count
            return entry
        }
    }

    /// Drops the entry of a message that left the queue without being read (deleted, retired).
    func evict(_ id: QueueID) {
        _ = take(id)
    }

    var count: Int { contents.withLock { $0.entries.count } }
}

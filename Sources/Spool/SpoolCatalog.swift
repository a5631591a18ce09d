import Threading

/// relayd's in-memory copy of what the spool's files say about each message in `queue/` and `failed/`:
/// envelope, latest delivery state (without its attempt history), size and folder.
///
/// The spool is the only writer of its files (one process per spool), and it tells the catalog of each of
/// its own changes once they are on disk, so `relayctl queue` and `stats` over a hundred thousand messages
/// read no file at all. The files stay the truth: every scan of `queue/` corrects the catalog, except for
/// what changed while the scan was running (the change is newer than what the scan read).
///
/// Empty and not `complete` until `Spool.recover()` has filled it; until then listings read the files.
public final class SpoolCatalog: Sendable {
    fileprivate struct Item {
        var envelope: MessageEnvelope
        /// Nil until the first recorded state: a fresh message costs no state of its own here.
        var state: DeliveryState?
        var size: Int
        var location: SpoolEntry.Location
        var failedAt: Double?
        /// When the item last changed, on the catalog's own clock of changes.
        var stamp: UInt64

        var entry: SpoolEntry {
            SpoolEntry(
                envelope: envelope, state: state ?? DeliveryState(recipients: envelope.recipients),
                hasStateFile: state != nil, size: size, location: location, failedAt: failedAt)
        }
    }

    private struct Storage {
        var items: [QueueID: Item] = [:]
        /// Counts changes; a scan remembers the count it started at.
        var clock: UInt64 = 0
        /// The starting counts of the scans in progress.
        var scans: [UInt64] = []
        /// Ids removed while a scan was in progress, with when: that scan may have read them before they went.
        var removedAt: [QueueID: UInt64] = [:]
        var complete = false

        mutating func tick() -> UInt64 {
            clock += 1
            return clock
        }
    }

    private let storage = Locked(Storage())

    public init() {}

    /// Whether the catalog holds every message: true from the end of `Spool.recover()`.
    public var isComplete: Bool { storage.withLock { $0.complete } }

    /// Messages known, in `queue/` and `failed/`.
    public var count: Int { storage.withLock { $0.items.count } }

    /// Every message, ordered by id (arrival) unless `ordered` is false (counting needs no order), with the
    /// state it was last recorded with (history left out); nil while the catalog is not complete.
    public func entries(ordered: Bool = true) -> Snapshot? {
        guard let items = storage.withLock({ $0.complete ? Array($0.items.values) : nil }) else { return nil }
        // Sorted outside the lock, so receiving and delivery are held up only for the copy; by position,
        // which moves a word per swap rather than a whole item.
        let order = ordered ? items.indices.sorted { items[$0].envelope.id.rawValue < items[$1].envelope.id.rawValue } : Array(items.indices)
        return Snapshot(items: items, order: order)
    }

    /// The catalog at one moment, in id order. Each `SpoolEntry` is made as it is read, so a listing of a
    /// hundred thousand holds one copy of the catalog's items, not a second array of entries as well.
    public struct Snapshot: RandomAccessCollection, Sendable {
        fileprivate let items: [Item]
        fileprivate let order: [Int]

        public var startIndex: Int { 0 }
        public var endIndex: Int { order.count }
        public subscript(position: Int) -> SpoolEntry { items[order[position]].entry }
    }

    /// The entry for `id`, if the catalog knows it.
    public func entry(_ id: QueueID) -> SpoolEntry? {
        storage.withLock { $0.items[id]?.entry }
    }

    /// The message `id` as a scan of `queue/` would read it, if the catalog is complete and has it queued.
    func queuedMessage(_ id: QueueID) -> QueuedMessage? {
        storage.withLock { storage in
            guard storage.complete, let item = storage.items[id], item.location == .queue else { return nil }
            return QueuedMessage(
                envelope: item.envelope, state: item.state ?? DeliveryState(recipients: item.envelope.recipients),
                size: item.size, hasStateFile: item.state != nil)
        }
    }

    // MARK: - The spool's changes

    /// A message committed into `queue/`.
    func added(_ envelope: MessageEnvelope, size: Int) {
        storage.withLock { storage in
            let stamp = storage.tick()
            storage.items[envelope.id] = Item(envelope: envelope, state: nil, size: size, location: .queue, stamp: stamp)
        }
    }

    /// A state recorded for a queued message.
    func recorded(_ state: DeliveryState, for id: QueueID) {
        let state = Self.withoutHistory(state)
        storage.withLock { storage in
            let stamp = storage.tick()
            guard storage.items[id] != nil else { return }  // a scan in progress adds it with this state
            storage.items[id]!.state = state
            storage.items[id]!.stamp = stamp
        }
    }

    /// A message moved into `failed/` at `time` with its final state.
    func retired(_ id: QueueID, state: DeliveryState, at time: Double) {
        let state = Self.withoutHistory(state)
        storage.withLock { storage in
            let stamp = storage.tick()
            guard storage.items[id] != nil else { return }
            storage.items[id]!.state = state
            storage.items[id]!.location = .failed
            storage.items[id]!.failedAt = time
            storage.items[id]!.stamp = stamp
        }
    }

    /// A message gone from the spool: delivered, deleted, or purged from `failed/`.
    func removed(_ id: QueueID) {
        storage.withLock { storage in
            let stamp = storage.tick()
            storage.items[id] = nil
            if !storage.scans.isEmpty { storage.removedAt[id] = stamp }
        }
    }

    // MARK: - Scans

    /// Marks the start of a scan of `queue/`; pass the result to `scanEnded`.
    func scanStarted() -> UInt64 {
        storage.withLock { storage in
            storage.scans.append(storage.clock)
            return storage.clock
        }
    }

    /// Takes what a scan that started at `start` found in `queue/` (nil when it failed): messages it found
    /// are recorded as found, queued messages it did not find are dropped, except where the catalog changed
    /// after the scan started (the change is newer than what the scan read).
    func scanEnded(_ start: UInt64, found: [QueuedMessage]?) {
        storage.withLock { storage in
            if let index = storage.scans.firstIndex(of: start) { storage.scans.remove(at: index) }
            defer {
                let oldest = storage.scans.min() ?? storage.clock
                storage.removedAt = storage.removedAt.filter { $0.value > oldest }
            }
            guard let found else { return }
            var seen = Set<QueueID>(minimumCapacity: found.count)
            for message in found {
                seen.insert(message.id)
                if let item = storage.items[message.id], item.stamp > start { continue }
                if let removal = storage.removedAt[message.id], removal > start { continue }
                let state = message.hasStateFile ? Self.withoutHistory(message.state) : nil
                // Usually the scan agrees: keeping the item spares replacing every string in the catalog
                // with the scan's copy, which would scatter them over the heap with each scan.
                if let item = storage.items[message.id], item.location == .queue, item.envelope == message.envelope,
                   item.state == state, item.size == message.size { continue }
                let stamp = storage.tick()
                storage.items[message.id] = Item(
                    envelope: message.envelope, state: state, size: message.size, location: .queue, stamp: stamp)
            }
            let gone = storage.items.filter { id, item in item.location == .queue && item.stamp <= start && !seen.contains(id) }
            for id in gone.keys { storage.items[id] = nil }
        }
    }

    /// Adds the messages found in `failed/` at start-up, and declares the catalog complete.
    func completed(failed: [FailedMessage]) {
        storage.withLock { storage in
            for message in failed where storage.items[message.id] == nil {
                let stamp = storage.tick()
                storage.items[message.id] = Item(
                    envelope: message.envelope, state: message.state.map(Self.withoutHistory), size: message.size,
                    location: .failed, failedAt: message.failedAt, stamp: stamp)
            }
            storage.complete = true
        }
    }

    /// Attempt histories are for `relayctl show`, which reads the state file; here they would only cost memory.
    private static func withoutHistory(_ state: DeliveryState) -> DeliveryState {
        var state = state
        state.history = nil
        return state
    }
}

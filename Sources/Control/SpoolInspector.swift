#if canImport(Glibc)
import Glibc
#endif
import Spool

/// Answers the read-only requests (queue, show, show_raw, stats): relayctl's own view from the spool's
/// files when relayd is down, and what relayd serves (it passes the ids it is delivering, shown as
/// `active`), so both modes share one code path.
///
/// Listings come from the spool's catalog when there is a complete one (relayd's, in memory), else from
/// the files through `SpoolReader`. Disk reads and the building of entries from them run on `io`'s threads,
/// never on the caller's: relayd calls this from its control sessions, and reading a hundred thousand
/// messages is seconds of work that must not hold up the event loop or the cooperative pool. A listing
/// from the files is read in chunks, so it streams.
public struct SpoolInspector: Sendable {
    public let reader: SpoolReader
    private let io: BlockingIOPool
    /// relayd's catalog, which listings come from once complete; nil in relayctl.
    public let catalog: SpoolCatalog?
    private let clock: @Sendable () -> Double

    /// `catalog`: relayd's, for listings without reading files. `clock` gives the current time in seconds
    /// since the epoch (tests pin it).
    public init(
        root: String, io: BlockingIOPool, catalog: SpoolCatalog? = nil,
        clock: @escaping @Sendable () -> Double = SpoolInspector.wallClock
    ) {
        reader = SpoolReader(root: root)
        self.io = io
        self.catalog = catalog
        self.clock = clock
    }

    /// Messages are read this many at a time: the first lines go out at once, memory stays bounded,
    /// and reading the next chunk overlaps with sending the last.
    static let chunkSize = 4096

    /// Streams the messages `filter` matches, in arrival order, through `emit`; `active` are the ids relayd
    /// is delivering right now.
    public func queue(
        _ filter: QueueFilter, active: Set<QueueID> = [], emit: (QueueEntry) async throws -> Void
    ) async throws -> QueueSummary {
        if let entries = catalog?.entries() {
            return try await queue(entries, filter, active: active, emit: emit)
        }
        let reader = self.reader
        let listing = try await io.run { () throws(SpoolError) in try reader.list() }
        var summary = QueueSummary()
        summary.unreadable = listing.unreadable.map { "\($0)" }
        let chunks = listing.chunks(of: Self.chunkSize)
        let now = clock()
        var next = chunks.first.map { read($0, of: listing, filter: filter, active: active, now: now) }
        defer { next?.cancel() }
        var index = 0
        while let pending = next {
            let (entries, unreadable) = try await pending.value
            index += 1
            next = index < chunks.count ? read(chunks[index], of: listing, filter: filter, active: active, now: now) : nil
            summary.unreadable += unreadable
            for entry in entries {
                summary.add(entry)
                try await emit(entry)
            }
        }
        return summary
    }

    /// Streams the catalog's entries that `filter` matches.
    private func queue(
        _ entries: SpoolCatalog.Snapshot, _ filter: QueueFilter, active: Set<QueueID>, emit: (QueueEntry) async throws -> Void
    ) async throws -> QueueSummary {
        let now = clock()
        var summary = QueueSummary()
        for spooled in entries {
            let entry = QueueEntry(spooled, now: now, active: active.contains(spooled.id))
            guard filter.matches(entry) else { continue }
            summary.add(entry)
            try await emit(entry)
        }
        return summary
    }

    /// Starts reading one chunk of the listing on a disk thread, turned into the entries `filter` keeps.
    private func read(
        _ range: Range<Int>, of listing: SpoolListing, filter: QueueFilter, active: Set<QueueID>, now: Double
    ) -> Task<([QueueEntry], [String]), any Error> {
        let reader = self.reader
        let io = self.io
        return Task {
            try await io.run { () throws(SpoolError) in
                let (entries, unreadable) = try reader.read(listing, range)
                let listed = entries.lazy.map { QueueEntry($0, now: now, active: active.contains($0.id)) }.filter(filter.matches)
                return (Array(listed), unreadable.map { "\($0)" })
            }
        }
    }

    /// The message's envelope, state and header section.
    public func show(_ id: QueueID, active: Bool = false) async throws(ControlError) -> MessageDetail {
        let reader = self.reader
        let now = clock()
        do {
            return try await io.run { () throws(SpoolError) in
                let (entry, prefix) = try reader.message(id, limit: MessageDetail.headerLimit + 4)
                return MessageDetail(entry, messagePrefix: prefix, now: now, active: active)
            }
        } catch {
            throw ControlError(error)
        }
    }

    /// The message's bytes as queued.
    public func showRaw(_ id: QueueID) async throws(ControlError) -> RawMessage {
        let reader = self.reader
        do {
            return try await io.run { () throws(SpoolError) in RawMessage(id: id, bytes: try reader.message(id).bytes) }
        } catch {
            throw ControlError(error)
        }
    }

    /// The counts of the whole queue and `failed/`; the last hour and the upstreams are relayd's to add.
    public func statistics(active: Set<QueueID> = []) async throws(ControlError) -> QueueStatistics {
        do {
            return QueueStatistics(queue: try await queue(.all, active: active) { _ in })
        } catch let error as ControlError {
            throw error
        } catch let error as SpoolError {
            throw ControlError(error)
        } catch {
            throw ControlError(.internal, "\(error)")
        }
    }

    /// Seconds since the epoch, now.
    @Sendable public static func wallClock() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// Alone, the inspector is relayctl's handler while relayd is down: it reads, and refuses every change.
extension SpoolInspector: ControlHandler {
    public func queue(_ filter: QueueFilter, emit: (QueueEntry) async throws -> Void) async throws -> QueueSummary {
        try await queue(filter, active: [], emit: emit)
    }

    public func show(_ id: QueueID) async throws(ControlError) -> MessageDetail {
        try await show(id, active: false)
    }

    public func flush(_ ids: [QueueID]?) async throws(ControlError) -> ChangeReport { throw Self.needsDaemon("flush") }
    public func hold(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport { throw Self.needsDaemon("hold") }
    public func release(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport { throw Self.needsDaemon("release") }
    public func delete(_ ids: [QueueID]) async throws(ControlError) -> ChangeReport { throw Self.needsDaemon("delete") }

    public func delete(state: ControlRequest.DeletableState) async throws(ControlError) -> ChangeReport {
        throw Self.needsDaemon("delete")
    }

    public func stats() async throws(ControlError) -> QueueStatistics {
        try await statistics(active: [])
    }

    public func awaitOutcome(_ id: QueueID, timeout: Duration) async throws(ControlError) -> AttemptOutcome? {
        throw Self.needsDaemon("waiting for a delivery")
    }

    public func reload() async throws(ControlError) -> ReloadReport { throw Self.needsDaemon("reload") }

    private static func needsDaemon(_ what: String) -> ControlError {
        ControlError(.unavailable, "\(what) needs relayd, which is not running; start it and try again")
    }
}

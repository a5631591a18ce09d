#if canImport(Glibc)
import Glibc
#endif
import CoreMetrics
import FoundationEssentials
import Threading

/// The durable queue: the only hand-off between receiving and delivering.
public final class Spool: Sendable {
    public let layout: SpoolLayout
    let commitQueue: GroupCommitQueue
    let io: BlockingIOPool
    let recycler: InodeRecycler
    /// Fresh messages' bytes for their first attempt; 16 MiB is a few seconds of a busy relay's small mail.
    let freshMessages = FreshMessageCache(capacity: 16 << 20)
    /// Ids that have a `.state` file: the spool is its only writer (one process per spool), so most
    /// messages — delivered at the first attempt — cost no state look-up or unlink at all.
    let statefulIDs = Locked<Set<QueueID>>([])
    /// What every message's files say, in memory, for listings; complete once `recover()` has run.
    public let catalog = SpoolCatalog()
    private let ids = QueueIDGenerator()
    private let newMailContinuation: AsyncStream<QueueID>.Continuation
    /// Ids of freshly committed messages, a hint for the queue runner; a lost hint only delays (it scans too).
    public let newMail: AsyncStream<QueueID>

    /// Held for the spool's lifetime: one relayd per spool (a second one would reuse files the first owns).
    private let lockFD: Int32

    /// Opens (creating if needed) the spool at `root`; fails if another process has it open.
    public init(root: String, ioThreads: Int = 4) throws(SpoolError) {
        layout = SpoolLayout(root: root)
        try layout.create()
        lockFD = open(layout.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard lockFD >= 0 else { throw SpoolError.fromErrno("open", layout.root) }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(lockFD)
            if code == EWOULDBLOCK { throw .locked(path: layout.root) }
            throw SpoolError.fromErrno("flock", layout.root, code)
        }
        // Made with whichever metrics backend relayd bootstrapped (none in tests: the record is dropped).
        commitQueue = try GroupCommitQueue(
            name: "spool", syncPath: layout.root, syncDuration: CoreMetrics.Timer(label: "mailrelay_spool_sync_seconds"))
        io = BlockingIOPool(threads: ioThreads)
        recycler = InodeRecycler(directory: layout.recycle)
        recycler.load(existing: try SpoolScanner(layout: layout).listDirectory(layout.recycle))
        (newMail, newMailContinuation) = AsyncStream.makeStream(of: QueueID.self, bufferingPolicy: .bufferingNewest(100_000))
    }

    /// Releases the one-process lock, so another Spool may open this root: at shutdown, and in tests that
    /// simulate a restart in one process. This Spool must not be used afterwards.
    public func relinquish() {
        flock(lockFD, LOCK_UN)
    }

    deinit {
        close(lockFD)
    }

    /// Starts receiving a message; the id is assigned now so every log line about it can carry it.
    public func beginReceipt(
        sender: String, recipients: [String], clientAddress: String, clientName: String,
        eightBitMIME: Bool, smtputf8: Bool
    ) -> SpoolReceipt {
        let envelope = MessageEnvelope(
            id: ids.next(), sender: sender, recipients: recipients, receivedAt: Date().timeIntervalSince1970,
            clientAddress: clientAddress, clientName: clientName, eightBitMIME: eightBitMIME, smtputf8: smtputf8)
        return SpoolReceipt(envelope: envelope, spool: self)
    }

    func announce(_ id: QueueID) {
        newMailContinuation.yield(id)
    }

    /// Every committed message with its state, oldest first. Unreadable entries are quarantined and reported.
    public func scan() async throws(SpoolError) -> (messages: [QueuedMessage], quarantined: [SpoolError]) {
        let layout = self.layout
        let start = catalog.scanStarted()
        let catalog = self.catalog
        let result: (messages: [QueuedMessage], quarantined: [SpoolError])
        do {
            // Once the catalog is complete, only files it does not know are read: scanning a queue of a
            // hundred thousand deferred messages is then a directory listing, not 200,000 file reads a minute.
            result = try await io.run { () throws(SpoolError) in
                try SpoolScanner(layout: layout).scan(known: catalog.queuedMessage)
            }
        } catch {
            catalog.scanEnded(start, found: nil)
            throw error
        }
        catalog.scanEnded(start, found: result.messages)
        statefulIDs.withLock { ids in
            for message in result.messages where message.hasStateFile { ids.insert(message.id) }
        }
        return result
    }

    /// The message bytes as accepted (Received: header included), and its envelope.
    public func read(_ id: QueueID) async throws(SpoolError) -> (envelope: MessageEnvelope, body: [UInt8]) {
        if let fresh = freshMessages.take(id) { return fresh }
        let path = layout.messagePath(id)
        return try await io.run { () throws(SpoolError) in try Spool.readMessageFile(path, id: id) }
    }

    /// Envelope and message bytes of the queue file at `path` (in `queue/` or `failed/`).
    static func readMessageFile(_ path: String, id: QueueID) throws(SpoolError) -> (envelope: MessageEnvelope, body: [UInt8]) {
        let file = try openMessageFile(path, id: id)
        defer { file.close() }
        // One read of the whole file; the header is parsed from the same bytes.
        let bytes = try file.read()
        let header = try MessageFileFormat.parseHeader(bytes, path: path)
        guard bytes.count == header.bodyOffset + header.bodySize else {
            throw .corrupt(path: path, reason: "body is \(bytes.count - header.bodyOffset) bytes, expected \(header.bodySize)")
        }
        return (header.envelope, Array(bytes[header.bodyOffset...]))
    }

    /// The queue file of `id` at `path`, open for reading; `.notFound` when it is not there.
    static func openMessageFile(_ path: String, id: QueueID) throws(SpoolError) -> POSIXFile {
        do throws(SpoolError) { return try POSIXFile.openForReading(path) } catch {
            if case .io(_, _, ENOENT) = error { throw .notFound(id) }
            throw error
        }
    }

    /// Records a new delivery state atomically (temp file, fsync, rename, directory fsync).
    public func writeState(_ state: DeliveryState, for id: QueueID) async throws(SpoolError) {
        let layout = self.layout
        let bytes: [UInt8]
        do { bytes = Array(try JSONEncoder().encode(state)) } catch {
            throw .corrupt(path: layout.statePath(id), reason: "cannot encode state: \(error)")
        }
        statefulIDs.withLock { _ = $0.insert(id) }  // before the file exists: a stale entry costs one syscall
        try await io.run { () throws(SpoolError) in
            try POSIXFile.replaceAtomically(
                layout.statePath(id), with: bytes, temporary: "\(layout.incoming)/\(id).state.tmp")
        }
        catalog.recorded(state, for: id)
    }

    /// Removes a finished message: the body first, so a crash in between leaves only a stale state file,
    /// which the next scan drops. The body's file is recycled for a later message.
    public func remove(_ id: QueueID) async throws(SpoolError) {
        let layout = self.layout
        let recycler = self.recycler
        // Forgotten only once the files are gone: after a failed removal the state must still be found.
        let hasState = statefulIDs.withLock { $0.contains(id) }
        freshMessages.evict(id)
        try await io.run { () throws(SpoolError) in
            try recycler.retire(layout.messagePath(id))
            if hasState, unlink(layout.statePath(id)) != 0, errno != ENOENT {
                throw SpoolError.fromErrno("unlink", layout.statePath(id))
            }
        }
        statefulIDs.withLock { _ = $0.remove(id) }
        catalog.removed(id)
    }

    /// The spool's group commit when `path` is on the same file system (one `syncfs` then covers both, so
    /// delivering into the outbox does not double the syncs), else a queue of its own for `path`.
    public func groupCommitQueue(for path: String) throws(SpoolError) -> GroupCommitQueue {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SpoolError.fromErrno("stat", path) }
        if UInt64(info.st_dev) == commitQueue.device { return commitQueue }
        return try GroupCommitQueue(name: path, syncPath: path)
    }

    /// Runs blocking disk work for other layers (the outbox) on the spool's disk threads.
    public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws(SpoolError) -> T) async throws(SpoolError) -> T {
        try await io.run(body)
    }
}

extension Spool {
    /// The delivery state recorded for `id`, or nil before the first recorded attempt. An unreadable state
    /// is moved to `corrupt/` and reported as nil, so the message is delivered afresh rather than stuck.
    public func loadState(_ id: QueueID) async throws(SpoolError) -> DeliveryState? {
        guard statefulIDs.withLock({ $0.contains(id) }) else { return nil }
        let path = layout.statePath(id)
        let quarantine = "\(layout.corrupt)/\(id).state"
        return try await io.run { () throws(SpoolError) -> DeliveryState? in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT { return nil }
                throw SpoolError.fromErrno("open", path)
            }
            let file = POSIXFile(fd: fd, path: path)
            defer { file.close() }
            let bytes = try file.read()
            do { return try JSONDecoder().decode(DeliveryState.self, from: Data(bytes)) } catch {
                _ = Glibc.rename(path, quarantine)
                return nil
            }
        }
    }
}

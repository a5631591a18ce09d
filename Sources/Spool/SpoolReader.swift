#if canImport(Glibc)
import Glibc
#endif
import Threading

/// Reads the spool's messages without a lock and without changing a file: what relayctl lists and shows,
/// whether relayd runs or not.
///
/// relayd keeps working meanwhile, so a message may be delivered, retired into `failed/` or have its file
/// recycled for another message between the directory listing and the read. Such entries are skipped (or,
/// when retired, read from `failed/`), never reported as damage: an entry counts as unreadable only while
/// its path still names the file that failed to read. Unlike `SpoolScanner`, nothing is quarantined.
public struct SpoolReader: Sendable {
    public let layout: SpoolLayout

    /// A read is cut into this many slices (of at least 256 files), read by `threads` threads. More threads
    /// than cores, because with the files not cached each thread waits for the disk: measured on 100,000
    /// evicted 1 KiB messages on 2 cores, 11.6 s with 2 threads, 4.6 s with 8, 3.5 s with 16; with the files
    /// cached the count makes no difference (0.7-0.8 s).
    private static let slices = 32
    private static let threads = 16

    public init(root: String) {
        layout = SpoolLayout(root: root)
    }

    /// Every committed message in `queue/` (and in `failed/` unless `includeFailed` is false), ordered by
    /// id (arrival), with the entries that could not be read: `list` and `read` in one go. Throws only when
    /// `queue/` itself cannot be read.
    public func entries(includeFailed: Bool = true) throws(SpoolError) -> (entries: [SpoolEntry], unreadable: [SpoolError]) {
        let listing = try list(includeFailed: includeFailed)
        let (entries, unreadable) = try read(listing, 0..<listing.count)
        return (entries, listing.unreadable + unreadable)
    }

    /// The messages in `queue/` (and `failed/`), ordered by id, from the directory listings alone; `read`
    /// then reads them, a range at a time if the caller wants to stream. Throws only when `queue/` itself
    /// cannot be listed.
    public func list(includeFailed: Bool = true) throws(SpoolError) -> SpoolListing {
        let queued = try listing(of: layout.queue, location: .queue)
        var failed = Listing()
        if includeFailed {
            do throws(SpoolError) { failed = try listing(of: layout.failed, location: .failed) } catch .io(_, _, ENOENT) {
                // A spool from before failed/ existed: nothing kept.
            }
        }
        return SpoolListing(
            candidates: Self.merge(queued.candidates, failed.candidates), unreadable: queued.badNames,
            failedIDs: includeFailed ? Set(failed.candidates.map(\.id)) : nil)
    }

    /// Reads the listed messages in `range` (of `listing`'s positions): each file's header and the `.state`
    /// files that exist, on several threads (see `threads`). Returns them in order with the entries that could
    /// not be read; messages gone since the listing are left out. Use `SpoolListing.chunks` for ranges, so a
    /// message listed in both folders (retired meanwhile) is not split across two reads.
    public func read(_ listing: SpoolListing, _ range: Range<Int>) throws(SpoolError) -> (entries: [SpoolEntry], unreadable: [SpoolError]) {
        let candidates = listing.candidates[range]
        let folders = try Folders(layout)
        defer { folders.close() }
        let context = LoadContext(reader: self, folders: folders, failedIDs: listing.failedIDs)

        let sliceLength = max(256, (candidates.count + Self.slices - 1) / Self.slices)
        let sliceCount = (candidates.count + sliceLength - 1) / sliceLength
        let results = Locked([[LoadOutcome]](repeating: [], count: sliceCount))
        ParallelSlices.run(count: sliceCount, threads: Self.threads) { slice in
            let start = candidates.startIndex + slice * sliceLength
            let outcomes = candidates[start..<min(candidates.endIndex, start + sliceLength)].map { context.load($0) }
            results.withLock { $0[slice] = outcomes }
        }

        var entries: [SpoolEntry] = []
        var unreadable: [SpoolError] = []
        entries.reserveCapacity(candidates.count)
        for outcome in results.withLock({ $0 }).joined() {
            switch outcome {
            case .entry(let entry, let stateProblem):
                if let stateProblem { unreadable.append(stateProblem) }
                // Read in queue/ through a descriptor opened before its retire, and listed in failed/ after
                // it: one message, and failed/ has its final word.
                if let last = entries.last, last.id == entry.id {
                    if entry.location == .failed { entries[entries.count - 1] = entry }
                    continue
                }
                entries.append(entry)
            case .unreadable(let error):
                unreadable.append(error)
            case .vanished:
                continue
            }
        }
        return (entries, unreadable)
    }

    /// The message `id`, in `queue/` or `failed/`; `.notFound` when it is in neither. An unreadable state is
    /// ignored here (the entry shows a fresh state); `entries()` reports it.
    public func entry(_ id: QueueID) throws(SpoolError) -> SpoolEntry {
        try message(id, limit: 0).entry
    }

    /// The message `id` and its bytes as queued (the body as accepted, at most `limit` of them when given),
    /// from `queue/` or `failed/`; `.notFound` when it is in neither.
    public func message(_ id: QueueID, limit: Int? = nil) throws(SpoolError) -> (entry: SpoolEntry, bytes: [UInt8]) {
        let folders = try Folders(layout)
        defer { folders.close() }
        let context = LoadContext(reader: self, folders: folders, failedIDs: nil)
        for location in [SpoolEntry.Location.queue, .failed] {
            let hasState = access(statePath(id, location), F_OK) == 0
            var bytes: [UInt8] = []
            let outcome = context.load(Candidate(id: id, location: location, hasState: hasState)) { (file, header) throws(SpoolError) in
                let wanted = min(header.bodySize, limit ?? header.bodySize)
                bytes = try file.read(at: header.bodyOffset, limit: wanted)
            }
            switch outcome {
            case .entry(let entry, _): return (entry, bytes)
            case .unreadable(let error): throw error
            case .vanished: continue  // not here (or finished meanwhile): look in failed/
            }
        }
        throw .notFound(id)
    }

    // MARK: - Listing

    typealias Candidate = SpoolListing.Candidate

    private struct Listing {
        /// Ordered by id.
        var candidates: [Candidate] = []
        var badNames: [SpoolError] = []
    }

    /// The messages in one folder, ordered by id, and which have a `.state`. In `queue/` a `.msg` whose name is
    /// not a queue id is reported (the daemon would quarantine it); `failed/` may hold an operator's own files.
    private func listing(of directory: String, location: SpoolEntry.Location) throws(SpoolError) -> Listing {
        var messages: [QueueID] = []
        var states = Set<QueueID>()
        var listing = Listing()
        for name in try SpoolScanner(layout: layout).listDirectory(directory) {
            if name.hasSuffix(".msg") {
                if let id = QueueID(name.dropLast(4)) {
                    messages.append(id)
                } else if location == .queue {
                    listing.badNames.append(.corrupt(path: "\(directory)/\(name)", reason: "file name is not a queue id"))
                }
            } else if name.hasSuffix(".state"), let id = QueueID(name.dropLast(6)) {
                states.insert(id)
            }
        }
        // Ids are small ASCII strings, which String's < compares directly: far cheaper than a generic
        // comparison of their bytes, measured on a listing of a hundred thousand.
        messages.sort { $0.rawValue < $1.rawValue }
        listing.candidates = messages.map { Candidate(id: $0, location: location, hasState: states.contains($0)) }
        return listing
    }

    /// Two id-ordered lists as one (the second is usually short: `failed/`).
    private static func merge(_ a: [Candidate], _ b: [Candidate]) -> [Candidate] {
        guard !b.isEmpty else { return a }
        var merged: [Candidate] = []
        merged.reserveCapacity(a.count + b.count)
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].id.rawValue <= b[j].id.rawValue) {
                merged.append(a[i])
                i += 1
            } else {
                merged.append(b[j])
                j += 1
            }
        }
        return merged
    }

    func messagePath(_ id: QueueID, _ location: SpoolEntry.Location) -> String {
        location == .queue ? layout.messagePath(id) : layout.failedMessagePath(id)
    }

    func statePath(_ id: QueueID, _ location: SpoolEntry.Location) -> String {
        location == .queue ? layout.statePath(id) : layout.failedStatePath(id)
    }
}

/// The two folders opened once per listing, so each message is opened relative to its folder (`openat`)
/// rather than by walking its whole path again.
private struct Folders: Sendable {
    let queue: Int32
    let failed: Int32

    init(_ layout: SpoolLayout) throws(SpoolError) {
        queue = open(layout.queue, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard queue >= 0 else { throw .fromErrno("open", layout.queue) }
        failed = open(layout.failed, O_RDONLY | O_DIRECTORY | O_CLOEXEC)  // -1 when absent: nothing is there
    }

    func descriptor(_ location: SpoolEntry.Location) -> Int32 {
        location == .queue ? queue : failed
    }

    func close() {
        _ = Glibc.close(queue)
        if failed >= 0 { _ = Glibc.close(failed) }
    }
}

/// What reading one listed message came to.
private enum LoadOutcome {
    /// Read; `stateProblem` when its `.state` was unreadable (the entry then shows a fresh state).
    case entry(SpoolEntry, stateProblem: SpoolError?)
    case unreadable(SpoolError)
    /// Gone since the listing (delivered, or its file recycled): not worth a word.
    case vanished
}

/// Reads single messages for `SpoolReader`; shared read-only by the threads of one listing.
private struct LoadContext: Sendable {
    let reader: SpoolReader
    let folders: Folders
    /// The ids listed in `failed/`, when failed messages are wanted: a message that leaves `queue/` during
    /// the listing is read from `failed/` unless it is listed there already.
    let failedIDs: Set<QueueID>?

    typealias Header = (envelope: MessageEnvelope, bodyOffset: Int, bodySize: Int)

    func load(_ candidate: SpoolReader.Candidate) -> LoadOutcome {
        load(candidate) { _, _ in }
    }

    /// Reads `candidate`'s header and state; `readMore` reads from the same open file (the body for
    /// `message(_:)`), so a message is never pieced together from two different files.
    func load(
        _ candidate: SpoolReader.Candidate, readMore: (POSIXFile, Header) throws(SpoolError) -> Void
    ) -> LoadOutcome {
        let path = reader.messagePath(candidate.id, candidate.location)
        let directory = folders.descriptor(candidate.location)
        let fd = directory >= 0 ? openat(directory, "\(candidate.id).msg", O_RDONLY | O_CLOEXEC) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return vanished(candidate, readMore: readMore) }
            return .unreadable(.fromErrno("open", path))
        }
        let file = POSIXFile(fd: fd, path: path)
        defer { file.close() }
        let header: Header
        do throws(SpoolError) {
            header = try MessageFileFormat.readCommittedHeader(file, id: candidate.id, acknowledged: candidate.location == .failed)
            try readMore(file, header)
        } catch {
            // A file recycled (truncated, or reused for a newer message) after we opened it reads as damage.
            return stillNamed(path, by: file) ? .unreadable(error) : vanished(candidate, readMore: readMore)
        }

        var state = DeliveryState(recipients: header.envelope.recipients)
        var hasStateFile = false
        var stateProblem: SpoolError?
        if candidate.hasState {
            do throws(SpoolError) {
                state = try DeliveryState.read(from: reader.statePath(candidate.id, candidate.location))
                hasStateFile = true
            } catch .io(_, _, ENOENT) {
                // Gone since the listing: the message was finished meanwhile (it went with its state).
                if !stillNamed(path, by: file) { return vanished(candidate, readMore: readMore) }
            } catch {
                stateProblem = error
            }
        }
        var failedAt: Double?
        if candidate.location == .failed {
            failedAt = FailedFolder(layout: reader.layout).retireTime(candidate.id, hasState: candidate.hasState)
        }
        let entry = SpoolEntry(
            envelope: header.envelope, state: state, hasStateFile: hasStateFile, size: header.bodySize,
            location: candidate.location, failedAt: failedAt)
        return .entry(entry, stateProblem: stateProblem)
    }

    /// A message that left `queue/` after the listing may have been retired into `failed/`: read it there
    /// unless the listing of `failed/` has it already.
    private func vanished(
        _ candidate: SpoolReader.Candidate, readMore: (POSIXFile, Header) throws(SpoolError) -> Void
    ) -> LoadOutcome {
        guard candidate.location == .queue, let failedIDs, !failedIDs.contains(candidate.id) else { return .vanished }
        let hasState = access(reader.statePath(candidate.id, .failed), F_OK) == 0
        return load(SpoolReader.Candidate(id: candidate.id, location: .failed, hasState: hasState), readMore: readMore)
    }

    /// Whether `path` still names the file open as `file` (not removed, renamed or replaced meanwhile).
    private func stillNamed(_ path: String, by file: POSIXFile) -> Bool {
        var opened = stat()
        var named = stat()
        guard fstat(file.fd, &opened) == 0, stat(path, &named) == 0 else { return false }
        return opened.st_dev == named.st_dev && opened.st_ino == named.st_ino
    }
}

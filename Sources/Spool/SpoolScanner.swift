#if canImport(Glibc)
import Glibc
#endif

/// Reads the queue directory: what recovery and the queue runner's periodic scan see.
struct SpoolScanner {
    let layout: SpoolLayout

    /// Envelope and state of every committed message; unreadable ones are moved to `corrupt/`. A message
    /// `known` answers for is taken from there instead of read (the catalog's, once complete).
    func scan(known: (QueueID) -> QueuedMessage? = { _ in nil }) throws(SpoolError) -> (messages: [QueuedMessage], quarantined: [SpoolError]) {
        var messages: [QueuedMessage] = []
        var quarantined: [SpoolError] = []
        var stateFiles = Set<String>()
        var messageIDs = Set<String>()
        for name in try listDirectory(layout.queue) {
            if name.hasSuffix(".state") { stateFiles.insert(String(name.dropLast(6))) }
            if name.hasSuffix(".msg") { messageIDs.insert(String(name.dropLast(4))) }
        }
        for name in messageIDs.sorted() {
            guard let id = QueueID(name) else {
                quarantine("\(layout.queue)/\(name).msg", reason: "file name is not a queue id", into: &quarantined)
                continue
            }
            if let message = known(id) {
                messages.append(message)
                continue
            }
            do throws(SpoolError) {
                messages.append(try load(id, hasState: stateFiles.contains(name), stateProblems: &quarantined))
            } catch .io(_, _, ENOENT) {
                continue  // finished since the listing (removed, or retired into failed/): nothing to report
            } catch {
                quarantine(layout.messagePath(id), reason: error.description, into: &quarantined)
                if stateFiles.contains(name) { _ = Glibc.rename(layout.statePath(id), "\(layout.corrupt)/\(id).state") }
            }
        }
        // A state file without its message is what a crash between the two unlinks of `remove` leaves.
        for name in stateFiles.subtracting(messageIDs) { unlink("\(layout.queue)/\(name).state") }
        return (messages, quarantined)
    }

    private func load(_ id: QueueID, hasState: Bool, stateProblems: inout [SpoolError]) throws(SpoolError) -> QueuedMessage {
        let path = layout.messagePath(id)
        let file = try POSIXFile.openForReading(path)
        defer { file.close() }
        let header = try MessageFileFormat.readCommittedHeader(file, id: id, acknowledged: false)
        var state = DeliveryState(recipients: header.envelope.recipients)
        if hasState {
            let statePath = layout.statePath(id)
            do throws(SpoolError) {
                state = try DeliveryState.read(from: statePath)
                // A scan feeds scheduling and the catalog; `relayctl show` reads the history from the file.
                // Dropped here, a scan of a big queue holds a fraction of the memory.
                state.history = nil
            } catch .io(_, _, ENOENT) {
                // Gone since the listing: the message was finished meanwhile (removed or retired; skip it,
                // as for a vanished message), or `loadState` quarantined the state and reported it already.
                if access(path, F_OK) != 0 { throw .io(operation: "open", path: path, errno: ENOENT) }
            } catch {
                // Losing the state must not lose the message: keep it with a fresh state (at worst a
                // recipient already served gets it twice) and quarantine the unreadable state for a look.
                quarantine(statePath, reason: error.description + "; message kept with a fresh delivery state", into: &stateProblems)
            }
        }
        return QueuedMessage(envelope: header.envelope, state: state, size: header.bodySize, hasStateFile: hasState)
    }

    private func quarantine(_ path: String, reason: String, into list: inout [SpoolError]) {
        let name = path.split(separator: "/").last.map(String.init) ?? "unknown"
        _ = Glibc.rename(path, "\(layout.corrupt)/\(name)")
        list.append(.corrupt(path: path, reason: reason + "; moved to \(layout.corrupt)/\(name)"))
    }

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    func listDirectory(_ path: String) throws(SpoolError) -> [String] {
        guard let dir = opendir(path) else { throw SpoolError.fromErrno("opendir", path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            // Read the name where it lies: copying `d_name` whole would read all 256 bytes, past the end of a
            // short directory record (AddressSanitizer reported it).
            let name = String(cString: (UnsafeRawPointer(entry) + Self.nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

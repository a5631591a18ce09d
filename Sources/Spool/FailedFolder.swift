#if canImport(Glibc)
import Glibc
#endif

/// Reads and prunes `failed/`. Only names of the form `<queue id>.msg` and `<queue id>.state` are touched;
/// anything else an operator puts there is left alone.
struct FailedFolder {
    let layout: SpoolLayout

    private struct Entry {
        var hasMessage = false
        var hasState = false
    }

    private func entries() throws(SpoolError) -> [(id: QueueID, entry: Entry)] {
        var entries: [QueueID: Entry] = [:]
        for name in try SpoolScanner(layout: layout).listDirectory(layout.failed) {
            if name.hasSuffix(".msg"), let id = QueueID(name.dropLast(4)) { entries[id, default: Entry()].hasMessage = true }
            if name.hasSuffix(".state"), let id = QueueID(name.dropLast(6)) { entries[id, default: Entry()].hasState = true }
        }
        return entries.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Every kept message; a state without its message (a retire cut short by a crash) is not one.
    func list() throws(SpoolError) -> (messages: [FailedMessage], unreadable: [SpoolError]) {
        var messages: [FailedMessage] = []
        var unreadable: [SpoolError] = []
        for (id, entry) in try entries() where entry.hasMessage {
            do throws(SpoolError) {
                messages.append(try load(id, hasState: entry.hasState))
            } catch .io(_, _, ENOENT) {
                continue  // purged since the listing
            } catch {
                unreadable.append(error)
            }
        }
        return (messages, unreadable)
    }

    private func load(_ id: QueueID, hasState: Bool) throws(SpoolError) -> FailedMessage {
        let path = layout.failedMessagePath(id)
        let file = try POSIXFile.openForReading(path)
        defer { file.close() }
        let header = try MessageFileFormat.readCommittedHeader(file, id: id, acknowledged: true)
        let state = hasState ? (try? DeliveryState.read(from: layout.failedStatePath(id))) : nil
        return FailedMessage(envelope: header.envelope, state: state, size: header.bodySize, failedAt: retireTime(id, hasState: hasState))
    }

    /// When `id` was retired: the modification time of its state (written at the retire), else of its
    /// message, else 0.
    func retireTime(_ id: QueueID, hasState: Bool) -> Double {
        (hasState ? modificationTime(layout.failedStatePath(id)) : nil) ?? modificationTime(layout.failedMessagePath(id)) ?? 0
    }

    /// Removes the messages retired before `cutoff`, message file first, and states left without a message
    /// that are as old. Returns the messages removed.
    func purge(olderThan cutoff: Double, recycler: InodeRecycler) throws(SpoolError) -> [QueueID] {
        var removed: [QueueID] = []
        for (id, entry) in try entries() {
            let messagePath = layout.failedMessagePath(id)
            let statePath = layout.failedStatePath(id)
            // The retire time is the state's mtime (written at the retire); without a state, the message's.
            guard let retiredAt = (entry.hasState ? modificationTime(statePath) : nil) ?? modificationTime(messagePath),
                  retiredAt < cutoff else { continue }
            if entry.hasMessage {
                try recycler.retire(messagePath)
                removed.append(id)
            }
            if entry.hasState, unlink(statePath) != 0, errno != ENOENT { throw SpoolError.fromErrno("unlink", statePath) }
        }
        return removed
    }

    private func modificationTime(_ path: String) -> Double? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Threading

/// Keeps the files of finished messages for reuse, so the hot path neither allocates nor frees inodes.
///
/// Measured here (docs/ARCHITECTURE.md): on ext4 without a journal, allocating an inode skips every inode
/// freed in the last minute, and at a thousand messages a second that scan was most of relayd's kernel time.
/// A new message is therefore written into a recycled file in `recycle/` and renamed into `queue/`; a
/// finished message is renamed back into `recycle/` instead of being unlinked. Files in `recycle/` are garbage
/// by definition (a crash mid-write leaves nothing that was acknowledged), so the bin needs no recovery beyond
/// being listed at start.
///
/// Files in the bin are cut to one byte, not to zero: that frees every block of a large message but keeps the
/// first, which the next message overwrites in place. Truncating to zero would free it too (on this VM's
/// `discard` mount a synchronous discard per delivered message) and would set ext4's `auto_da_alloc`
/// replace-by-truncate heuristic, which allocates and starts writing the next message's blocks in `close(2)`,
/// one file at a time, instead of leaving them to the batch's `syncfs`. Measured: the truncate and that close
/// were 10 % of relayd's CPU in the relay benchmark. Every message writes from offset 0 and is at least one
/// byte long, so the kept byte is always overwritten.
final class InodeRecycler: Sendable {
    private struct Bin {
        var free: [String] = []
        var nextName: UInt64 = 0
    }

    let directory: String
    private let capacity: Int
    private let bin = Locked(Bin())

    init(directory: String, capacity: Int = 4096) {
        self.directory = directory
        self.capacity = capacity
    }

    /// Lists what a previous run left in the bin; extra files beyond the capacity are removed, and anything
    /// that is not a regular file (a directory, a symlink, a FIFO someone put there) is never used.
    func load(existing names: [String]) {
        let salt = UInt64(UInt32.random(in: 0...UInt32.max)) << 32
        bin.withLock { bin in
            for name in names {
                let path = "\(directory)/\(name)"
                var info = stat()
                guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
                if bin.free.count < capacity { bin.free.append(path) } else { unlink(path) }
            }
            bin.nextName = salt  // new names never collide with files listed above
        }
    }

    /// A writable file in the bin, at most one byte long (callers write from offset 0): a recycled one if any,
    /// else a new one.
    func take() throws(SpoolError) -> POSIXFile {
        while let path = bin.withLock({ $0.free.popLast() }) {
            // O_NOFOLLOW and O_NONBLOCK so a symlink or FIFO planted in the bin cannot redirect or stall us.
            let fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { continue }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= 1 || ftruncate(fd, 1) == 0 else {
                Glibc.close(fd)
                continue
            }
            return POSIXFile(fd: fd, path: path)
        }
        return try POSIXFile.create(freshName())
    }

    /// Gives back a file from `take()` that was not used (the message was refused). Its bytes are freed now
    /// (all but the one the next message overwrites): the bin keeps inodes, not mail.
    func giveBack(_ path: String) {
        _ = truncate(path, 1)
        let kept = bin.withLock { bin -> Bool in
            guard bin.free.count < capacity else { return false }
            bin.free.append(path)
            return true
        }
        if !kept { unlink(path) }
    }

    /// Retires a finished file: renamed into the bin while it has room, unlinked otherwise. Returns false
    /// when there was no file at `path` (an operator's delete must tell "deleted" from "not there").
    @discardableResult
    func retire(_ path: String) throws(SpoolError) -> Bool {
        let target = bin.withLock { bin -> String? in bin.free.count < capacity ? nextPath(&bin) : nil }
        guard let target else {
            if unlink(path) != 0 {
                if errno == ENOENT { return false }
                throw SpoolError.fromErrno("unlink", path)
            }
            return true
        }
        if Glibc.rename(path, target) != 0 {
            if errno == ENOENT { return false }
            throw SpoolError.fromErrno("rename", path)
        }
        // Free the delivered message's blocks at once (all but the first, see above): space comes back as the
        // queue drains, and delivered mail does not linger on disk.
        _ = truncate(target, 1)
        bin.withLock { $0.free.append(target) }
        return true
    }

    private func freshName() -> String {
        bin.withLock { nextPath(&$0) }
    }

    private func nextPath(_ bin: inout Bin) -> String {
        bin.nextName &+= 1
        return "\(directory)/\(String(bin.nextName, radix: 36))"
    }
}

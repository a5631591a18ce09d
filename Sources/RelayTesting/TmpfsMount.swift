#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A small tmpfs mounted in a temporary directory: a real file system that really runs out of space,
/// to test the ENOSPC paths without faking errors. Needs root (CAP_SYS_ADMIN); see `isAvailable`.
public final class TmpfsMount: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public var path: String { directory.path }
    private var mounted = true

    /// Whether this process may mount a tmpfs (tried once, with a throwaway mount).
    public static let isAvailable: Bool = {
        guard geteuid() == 0, let probe = try? TmpfsMount(bytes: 64 * 1024) else { return false }
        probe.unmount()
        return true
    }()

    public init(bytes: Int) throws {
        directory = try TemporaryDirectory(prefix: "mailrelay-tmpfs")
        guard mount("tmpfs", directory.path, "tmpfs", 0, "size=\(bytes),mode=0700") == 0 else {
            let code = errno
            directory.remove()
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EPERM)
        }
    }

    deinit { unmount() }

    /// Detaches the mount (lazily: a spool's commit thread keeps a descriptor on its root forever) and
    /// removes the mount point.
    public func unmount() {
        guard mounted else { return }
        mounted = false
        _ = umount2(directory.path, Int32(MNT_DETACH))
        directory.remove()
    }

    /// Fills the file system with `name` until ENOSPC, then gives back `leave` bytes by truncating it.
    /// Returns the filler's path; truncate it to 0 to make room again.
    @discardableResult
    public func fill(leaving leave: Int, name: String = "filler") throws -> String {
        let filler = directory.appending(name)
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        let block = [UInt8](repeating: 0xAB, count: 4096)
        var size = 0
        while true {
            let n = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            size += n
        }
        guard ftruncate(fd, off_t(max(0, size - leave))) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return filler
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Where a path leads and which file version sits there, to notice a change without reading the file.
///
/// Kubernetes updates a mounted ConfigMap or Secret by pointing the `..data` symlink at a new directory: the
/// path then resolves elsewhere, to another inode, whatever its modification time says. An edit in place
/// changes the modification time or the size. Either changes the stamp.
struct FileStamp: Equatable, Sendable {
    /// The path with every symlink resolved; nil when the file cannot be reached.
    var resolvedPath: String?
    var device: UInt64 = 0
    var inode: UInt64 = 0
    var size: Int64 = 0
    var modifiedSeconds: Int = 0
    var modifiedNanoseconds: Int = 0

    /// The stamp of `path` now; a missing or unreachable file has a stamp of its own (no resolved path).
    static func of(_ path: String) -> FileStamp {
        guard let resolved = realpath(path, nil) else { return FileStamp(resolvedPath: nil) }
        defer { free(resolved) }
        var info = stat()
        guard stat(resolved, &info) == 0 else { return FileStamp(resolvedPath: nil) }
        return FileStamp(
            resolvedPath: String(cString: resolved), device: UInt64(info.st_dev), inode: UInt64(info.st_ino),
            size: Int64(info.st_size), modifiedSeconds: Int(info.st_mtim.tv_sec),
            modifiedNanoseconds: Int(info.st_mtim.tv_nsec))
    }

    /// Stamps of several paths at once.
    static func of(_ paths: some Sequence<String>) -> [String: FileStamp] {
        Dictionary(paths.map { ($0, of($0)) }, uniquingKeysWith: { first, _ in first })
    }
}

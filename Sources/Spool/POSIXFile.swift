#if canImport(Glibc)
import Glibc
#endif

/// A file descriptor with throwing, EINTR-safe calls; errors carry the path for the operator.
/// Public for the outbox, which writes its files the same way.
public struct POSIXFile: Sendable {
    let fd: Int32
    public let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    public static func create(_ path: String, mode: mode_t = 0o600) throws(SpoolError) -> POSIXFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SpoolError.fromErrno("create", path) }
        return POSIXFile(fd: fd, path: path)
    }

    static func openForReading(_ path: String) throws(SpoolError) -> POSIXFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SpoolError.fromErrno("open", path) }
        return POSIXFile(fd: fd, path: path)
    }

    public func write(_ bytes: some Collection<UInt8>) throws(SpoolError) {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let n = array.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpoolError.fromErrno("write", path)
            }
            offset += n
        }
    }

    func write(_ bytes: [UInt8], at position: Int) throws(SpoolError) {
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(position)) }
        guard n == bytes.count else { throw SpoolError.fromErrno("pwrite", path) }
    }

    /// Reads up to `limit` bytes from the start (the whole file when nil).
    func read(limit: Int? = nil) throws(SpoolError) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while limit.map({ out.count < $0 }) ?? true {
            let want = min(chunk.count, (limit ?? Int.max) - out.count)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpoolError.fromErrno("read", path)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Reads up to `limit` bytes starting at `offset`, leaving the file position alone.
    func read(at offset: Int, limit: Int) throws(SpoolError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, limit - filled, off_t(offset + filled)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpoolError.fromErrno("read", path)
            }
            if n == 0 { break }
            filled += n
        }
        out.removeLast(limit - filled)
        return out
    }

    func size() throws(SpoolError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SpoolError.fromErrno("fstat", path) }
        return Int(info.st_size)
    }

    func sync() throws(SpoolError) {
        guard fsync(fd) == 0 else { throw SpoolError.fromErrno("fsync", path) }
    }

    public func close() { _ = Glibc.close(fd) }

    /// Writes a whole file under a temporary name, fsyncs it, renames it over `path` and fsyncs the
    /// directory: the atomic rewrite rule for small files like delivery state.
    static func replaceAtomically(_ path: String, with bytes: [UInt8], temporary: String) throws(SpoolError) {
        let file = try create(temporary)
        do throws(SpoolError) {
            try file.write(bytes)
            try file.sync()
            file.close()
        } catch {
            file.close()
            unlink(temporary)
            throw error
        }
        try rename(temporary, to: path)
        try syncDirectory(of: path)
    }

    public static func rename(_ from: String, to: String) throws(SpoolError) {
        guard Glibc.rename(from, to) == 0 else { throw SpoolError.fromErrno("rename", from) }
    }

    static func syncDirectory(of path: String) throws(SpoolError) {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SpoolError.fromErrno("open", directory) }
        defer { _ = Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw SpoolError.fromErrno("fsync", directory) }
    }
}

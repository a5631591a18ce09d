#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads small files (the config, secrets) with POSIX calls, so failures carry the errno text operators search for.
enum FileBytes {
    /// Why a file could not be read, as one clause: `No such file or directory`, `Permission denied`, ….
    struct Failure: Error, Sendable {
        var reason: String
    }

    /// Config and secret files are tiny; the cap keeps a mistaken path like /dev/zero from eating memory.
    static let limit = 1 << 20

    /// The whole content of the file at `path`.
    static func contents(atPath path: String) -> Result<[UInt8], Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.fromErrno()) }
        defer { close(fd) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(.fromErrno())
            }
            if count == 0 { return .success(content) }
            content += chunk[0..<count]
            if content.count > limit { return .failure(Failure(reason: "file is larger than 1MiB")) }
        }
    }

    /// Nil when the current process may read `path`, otherwise the reason it may not.
    static func unreadableReason(path: String) -> Failure? {
        access(path, R_OK) == 0 ? nil : .fromErrno()
    }

    /// Nil when `path` leads (through symlinks) to a regular file the process can open for reading, otherwise why not.
    ///
    /// Opened rather than asked with `access`, which answers for the real rather than the effective user;
    /// O_NONBLOCK keeps a FIFO at the path from blocking the open.
    static func unreadableRegularFileReason(path: String) -> Failure? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return .fromErrno() }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return .fromErrno() }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return Failure(reason: String(cString: strerror(EISDIR)))
        default: return Failure(reason: "not a regular file")
        }
    }
}

extension FileBytes.Failure {
    /// The current `errno` as text.
    static func fromErrno() -> Self {
        Self(reason: String(cString: strerror(errno)))
    }
}

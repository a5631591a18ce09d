#if canImport(Glibc)
import Glibc
#endif
import CLinux
import Synchronization

/// A listening Unix stream socket at a path, created with mode 0600, whose `accept()` suspends until a
/// client arrives.
///
/// The socket is never reachable with a wider mode: it is bound under a temporary name in the same
/// directory, chmod'ed to 0600, set listening and only then renamed over `path` (connects to a bound socket
/// that does not listen yet are refused, so not even the temporary name admits anyone early). The rename
/// also replaces a stale socket atomically: the path names the old socket or the new one at every instant.
/// A stale socket is one nobody listens on (connect refused), as a crashed daemon leaves; a live one means
/// another process serves the path, and the listener refuses to take it over.
///
/// The directory should be writable by relayd's user alone (a created one is 0700): in a directory others
/// can write to, they could swap the temporary name for a link between the bind and the chmod.
///
/// Accepted sockets are `TCPConnection`s: that type only reads, writes and closes a non-blocking stream
/// socket, and sets no TCP options itself (only `TCPListener` and `connect` do), so it serves AF_UNIX as is.
public final class UnixListener: @unchecked Sendable {
    /// The socket's path.
    public let path: String
    /// Atomic because `close()` comes from the shutdown path while `accept()` runs in the serving task.
    private let descriptor: Atomic<Int32>
    /// Device and inode of our socket file, so `close()` unlinks the path only while it is still ours.
    private let identity: (device: UInt64, inode: UInt64)
    private let loop: EventLoop

    /// Creates the socket at `path` (and its missing parent directories, mode 0700), replacing a stale
    /// socket. Throws `.socketPathTooLong`, `.socketInUse` (another process listens there), `.notASocket`
    /// (something else is at the path) or `.system`.
    public init(path: String, backlog: Int32 = 64, loop: EventLoop = .shared) throws(TransportError) {
        _ = try UnixSocketAddress(path: path)
        let directory = UnixListener.directory(of: path)
        try UnixListener.makeDirectories(directory)
        try UnixListener.refuseLiveOrForeign(path)

        let (fd, temporary) = try UnixListener.bindTemporary(in: directory)
        do throws(TransportError) {
            guard chmod(temporary, 0o600) == 0 else { throw .lastError("chmod \(temporary)") }
            guard listen(fd, backlog) == 0 else { throw .lastError("listen \(temporary)") }
            var info = stat()
            guard stat(temporary, &info) == 0 else { throw .lastError("stat \(temporary)") }
            // Checked again right before the rename: the window for a daemon starting meanwhile is this short.
            try UnixListener.refuseLiveOrForeign(path)
            guard rename(temporary, path) == 0 else { throw .lastError("rename \(temporary) to \(path)") }
            identity = (UInt64(info.st_dev), UInt64(info.st_ino))
        } catch {
            unlink(temporary)
            Glibc.close(fd)
            throw error
        }
        self.path = path
        self.descriptor = Atomic(fd)
        self.loop = loop
    }

    deinit { close() }

    /// Waits for the next client. Throws `.cancelled` when the task is cancelled, `.closed` after `close()`.
    public func accept() async throws -> TCPConnection {
        let client = try await AcceptLoop.next(descriptor: { descriptor.load(ordering: .acquiring) }, loop: loop, name: "accept \(path)") {
            mr_accept4($0, nil, nil, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
        }
        let none = PeerAddress(bytes: [0, 0, 0, 0], port: 0)
        return TCPConnection(fd: client, peer: none, local: none, loop: loop)
    }

    /// Stops listening and removes the socket file, unless another process has replaced it meanwhile;
    /// a pending `accept()` fails with `.closed`. Safe to call twice.
    public func close() {
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        guard fd >= 0 else { return }
        var info = stat()
        if lstat(path, &info) == 0, UInt64(info.st_dev) == identity.device, UInt64(info.st_ino) == identity.inode {
            unlink(path)
        }
        loop.release(fd)
        Glibc.close(fd)
    }

    // MARK: - Creating the socket file

    /// Throws unless `path` is free or holds a stale socket.
    private static func refuseLiveOrForeign(_ path: String) throws(TransportError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw .lastError("stat \(path)")
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path: path) }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw .lastError("socket") }
        defer { Glibc.close(probe) }
        let result = try UnixSocketAddress(path: path).withSockaddr { Glibc.connect(probe, $0, $1) }
        if result == 0 { throw .socketInUse(path: path) }
        switch errno {
        case ECONNREFUSED, ENOENT:
            return  // stale (nobody listens), or gone meanwhile: ours to replace
        case EAGAIN, EINPROGRESS:
            throw .socketInUse(path: path)  // a listener whose backlog is full is still a listener
        default:
            throw .lastError("connect \(path)")
        }
    }

    /// Binds a new socket to a fresh temporary name in `directory` (not listening yet).
    private static func bindTemporary(in directory: String) throws(TransportError) -> (Int32, String) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .lastError("socket") }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        for _ in 0..<16 {
            let suffix = String(decoding: (0..<8).map { _ in alphabet.randomElement()! }, as: UTF8.self)
            let temporary = "\(directory)/.\(suffix).tmp"
            let address: UnixSocketAddress
            do throws(TransportError) { address = try UnixSocketAddress(path: temporary) } catch {
                Glibc.close(fd)
                throw error
            }
            if address.withSockaddr({ bind(fd, $0, $1) }) == 0 { return (fd, temporary) }
            if errno == EADDRINUSE { continue }
            let error = TransportError.lastError("bind \(temporary)")
            Glibc.close(fd)
            throw error
        }
        Glibc.close(fd)
        throw .system(operation: "bind a temporary socket in \(directory)", errno: EADDRINUSE)
    }

    /// Creates `path` and its missing parents with mode 0700 (existing ones keep their mode).
    private static func makeDirectories(_ path: String) throws(TransportError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o700) != 0, errno != EEXIST { throw .lastError("mkdir \(current)") }
        }
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        return slash == path.utf8.startIndex ? "/" : String(path[..<slash])
    }
}

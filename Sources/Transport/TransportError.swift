#if canImport(Glibc)
import Glibc
#endif

/// A failure at the socket edge, carrying the operation and the errno text an operator needs.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    case system(operation: String, errno: Int32)
    case timedOut
    case closed
    case cancelled
    case resolution(host: String, reason: String)
    /// A Unix socket path longer than `sun_path` holds (107 bytes).
    case socketPathTooLong(path: String)
    /// Another process listens on this Unix socket path.
    case socketInUse(path: String)
    /// Something other than a socket is at the path where a Unix socket should be.
    case notASocket(path: String)

    public var description: String {
        switch self {
        case .system(let operation, let code): return "\(operation): \(String(cString: strerror(code)))"
        case .timedOut: return "timed out"
        case .closed: return "connection closed"
        case .cancelled: return "cancelled"
        case .resolution(let host, let reason): return "cannot resolve \(host): \(reason)"
        case .socketPathTooLong(let path):
            return "socket path \(path) is too long: a Unix socket path has at most \(UnixSocketAddress.maximumPathLength) bytes"
        case .socketInUse(let path): return "another process is already listening on \(path)"
        case .notASocket(let path): return "\(path) exists and is not a socket; move it away or choose another path"
        }
    }

    static func lastError(_ operation: String) -> TransportError {
        .system(operation: operation, errno: errno)
    }
}

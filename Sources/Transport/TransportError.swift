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

    public var description: String {
        switch self {
        case .system(let operation, let code): return "\(operation): \(String(cString: strerror(code)))"
        case .timedOut: return "timed out"
        case .closed: return "connection closed"
        case .cancelled: return "cancelled"
        case .resolution(let host, let reason): return "cannot resolve \(host): \(reason)"
        }
    }

    static func lastError(_ operation: String) -> TransportError {
        .system(operation: operation, errno: errno)
    }
}

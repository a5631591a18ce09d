#if canImport(Glibc)
import Glibc
#endif
import SMTPProtocol

/// A spool failure, naming the operation, the file and the system error.
public enum SpoolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// ENOSPC or EDQUOT: the queue cannot grow now; clients should retry later.
    case diskFull(operation: String, path: String)
    case io(operation: String, path: String, errno: Int32)
    case corrupt(path: String, reason: String)
    case notFound(QueueID)
    /// Another process (a second relayd) holds the spool.
    case locked(path: String)

    /// The error for a failed system call on `path`, telling a full disk apart from other failures.
    public static func fromErrno(_ operation: String, _ path: String, _ code: Int32 = errno) -> SpoolError {
        code == ENOSPC || code == EDQUOT ? .diskFull(operation: operation, path: path) : .io(operation: operation, path: path, errno: code)
    }

    public var description: String {
        switch self {
        case .diskFull(let operation, let path): return "\(operation) \(path): no space left on device"
        case .io(let operation, let path, let code): return "\(operation) \(path): \(String(cString: strerror(code)))"
        case .corrupt(let path, let reason): return "\(path): \(reason)"
        case .notFound(let id): return "\(id): no such message in the queue"
        case .locked(let path): return "\(path): the spool is in use by another process"
        }
    }

    /// The reply a client gets when its message could not be committed: always temporary, never 250.
    public var smtpReply: SMTPReply {
        switch self {
        case .diskFull: SMTPReply(452, .init(4, 3, 1), "Insufficient system storage; try again later")
        case .io, .corrupt, .notFound, .locked: SMTPReply(451, .init(4, 3, 0), "Local error in processing; try again later")
        }
    }
}

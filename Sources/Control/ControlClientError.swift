#if canImport(Glibc)
import Glibc
#endif

/// Why relayctl could not get an answer over the control socket, worded for the operator.
public enum ControlClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing listens at the path (ENOENT, ECONNREFUSED): relayd is not running, or uses another socket.
    case unreachable(path: String, errno: Int32)
    /// A system call failed otherwise; EACCES means this user may not use the socket.
    case system(operation: String, path: String, errno: Int32)
    /// relayd sent nothing for this long.
    case timedOut(path: String, after: Duration)
    /// relayd closed the connection before its answer was complete.
    case disconnected(path: String)
    /// A reply that is not this protocol (another program at the path, or a newer relayd's unknown reply).
    case malformedReply(String)
    /// relayd answered with an error.
    case rejected(ControlError)

    public var description: String {
        switch self {
        case .unreachable(let path, let code):
            return "relayd is not running: nothing answers on \(path) (\(String(cString: strerror(code))))"
        case .system(let operation, let path, let code):
            let hint = code == EACCES ? "; run relayctl as the user relayd runs as, or as root" : ""
            return "\(operation) \(path): \(String(cString: strerror(code)))\(hint)"
        case .timedOut(let path, let after):
            return "relayd did not answer on \(path) within \(after.components.seconds) s"
        case .disconnected(let path):
            return "relayd closed the connection on \(path) before its answer was complete"
        case .malformedReply(let reason):
            return "unexpected reply from relayd: \(reason)"
        case .rejected(let error):
            return error.message
        }
    }
}

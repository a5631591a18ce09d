#if canImport(Glibc)
import Glibc
#endif

/// Why `SMTPSubmission` could not hand its message over, worded for the operator.
public enum SMTPSubmissionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing accepts connections at the address (relayd is not running, or listens elsewhere).
    case unreachable(address: String, errno: Int32)
    /// A system call failed otherwise, or the server went silent (EAGAIN after the timeout).
    case system(operation: String, address: String, errno: Int32)
    /// The server closed the connection before it answered.
    case closed(address: String)
    /// A line that is not an SMTP reply line.
    case malformedReply(String)
    /// The server answered `command` with an error (or, for the greeting, `command` is empty).
    case refused(command: String, reply: SMTPReply)

    public var description: String {
        switch self {
        case .unreachable(let address, let code):
            return "nothing answers on \(address) (\(String(cString: strerror(code))))"
        case .system(let operation, let address, let code):
            if code == EAGAIN || code == EWOULDBLOCK { return "\(address) did not answer in time (\(operation))" }
            return "\(operation) \(address): \(String(cString: strerror(code)))"
        case .closed(let address):
            return "\(address) closed the connection"
        case .malformedReply(let line):
            return "not an SMTP reply: \(line)"
        case .refused(let command, let reply):
            return command.isEmpty ? "the greeting was \(reply)" : "\(command) was answered \(reply)"
        }
    }
}

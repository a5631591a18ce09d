internal import COpenSSL

/// Why TLS failed, worded for an operator's log line.
public enum TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The CA file, certificate or key cannot be loaded, or the context cannot be built.
    case configuration(String)
    /// Protocol error, peer alert or end of stream during the handshake, with OpenSSL's reason.
    case handshakeFailed(String)
    /// The peer's certificate failed verification: OpenSSL's text, e.g. "hostname mismatch".
    case certificateNotVerified(String)
    /// The session ended without close_notify: the peer vanished (possibly mid-record) or broke the protocol
    /// after the handshake, so what was read may be cut short.
    case closed
    /// The socket underneath failed or timed out (`.transport(.timedOut)`).
    case transport(TransportError)

    public var description: String {
        switch self {
        case .configuration(let reason): return "TLS configuration: \(reason)"
        case .handshakeFailed(let reason): return "TLS handshake failed: \(reason)"
        case .certificateNotVerified(let reason): return "TLS certificate not verified: \(reason)"
        case .closed: return "TLS session ended without close_notify"
        case .transport(let error): return error.description
        }
    }
}

extension TLSError {
    /// Empties this thread's OpenSSL error queue into one line of reasons ("wrong version number; ...").
    /// Called right after the failing SSL call, with no `await` in between: the queue is per thread, and a
    /// task may resume on another one.
    static func openSSLErrors() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                var text = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &text, text.count)
                reasons.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return reasons.isEmpty ? "no detail from OpenSSL" : reasons.joined(separator: "; ")
    }
}

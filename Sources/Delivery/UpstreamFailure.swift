import SMTPProtocol
import Transport

/// Why a connection to the upstream could not be used; every case defers the message.
public enum UpstreamFailure: Error, Sendable, CustomStringConvertible {
    /// Name resolution, TCP connect, or its timeout.
    case connect(endpoint: String, reason: String)
    /// TLS handshake or certificate verification, implicit or after STARTTLS.
    case tls(relay: String, reason: String)
    /// The upstream said something that ends the session (no STARTTLS, 535, 421, a malformed reply, …).
    case session(relay: String, ClientSessionFailure)
    /// The connection broke or went silent in the middle of the dialogue.
    case lost(relay: String, reason: String)

    public var description: String {
        switch self {
        case .connect(let endpoint, let reason): return "connect to \(endpoint): \(reason)"
        case .tls(let relay, let reason): return "TLS with \(relay): \(reason)"
        case .session(let relay, let failure): return "\(relay): \(failure)"
        case .lost(let relay, let reason): return "lost connection with \(relay): \(reason)"
        }
    }
}

extension UpstreamFailure {
    // The reasons a deadline leaves, shared by UpstreamSession (which writes them) and UpstreamFailureReason
    // (which counts them as timeouts), so the two cannot drift apart.
    static let timedOutReason = "\(TransportError.timedOut)"
    static let noReplyWithin = "no reply within "
    static let couldNotSendWithin = "could not send within "
}

/// Whether inbound STARTTLS (RFC 3207) is unavailable, offered, or required before MAIL.
public enum StartTLSPolicy: Sendable, Equatable {
    case unavailable
    case offered
    case required
}

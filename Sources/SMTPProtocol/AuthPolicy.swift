/// Whether inbound SMTP AUTH (RFC 4954) is unavailable, offered, or required before MAIL.
public enum AuthPolicy: Sendable, Equatable {
    case unavailable
    case offered
    case required
}

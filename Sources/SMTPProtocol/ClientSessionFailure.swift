/// Why a session ended without (or in the middle of) a transaction; everything here defers the message except
/// where noted.
///
/// None of these texts ever contains a password: the only upstream text they carry is the upstream's own reply.
public enum ClientSessionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A greeting other than 220 (554 included).
    case greetingRefused(SMTPReply)
    /// EHLO refused, and HELO either refused too or not possible (STARTTLS or AUTH needed).
    case ehloRefused(SMTPReply)
    /// TLS is required but STARTTLS is missing from the EHLO reply.
    case startTLSNotOffered
    case startTLSRefused(SMTPReply)
    /// Bytes arrived after the STARTTLS 220 and before TLS: someone may be injecting plaintext replies.
    case plaintextInjection
    /// Credentials are configured but neither AUTH PLAIN nor AUTH LOGIN is offered.
    case authenticationNotOffered
    /// 535 and the like: a configuration error (454 is a deferral; both are reported here).
    case authenticationFailed(SMTPReply)
    /// Credentials are configured, the connection is not TLS, and plaintext authentication is not allowed.
    case credentialsRequireTLS
    /// 421 at any point.
    case serviceClosing(SMTPReply)
    /// A reply that makes no sense for `command` (5xx to RSET, 3xx to MAIL, a reply nobody asked for). A misused
    /// session (an event that is not valid in its state) reports a synthesized 451 4.3.0 here, `command` naming
    /// the event.
    case unexpectedReply(SMTPReply, command: String)
    case malformedReply(String)

    /// A parser failure as a session failure, for the driver.
    public init(_ failure: SMTPReplyParser.Failure) {
        switch failure {
        case .malformed(let why): self = .malformedReply(why)
        }
    }

    /// One readable line for logs.
    public var description: String {
        switch self {
        case .greetingRefused(let reply): "upstream refused the connection: \(reply)"
        case .ehloRefused(let reply): "upstream refused EHLO/HELO: \(reply)"
        case .startTLSNotOffered: "upstream does not offer STARTTLS; refusing to send in plaintext"
        case .startTLSRefused(let reply): "upstream refused STARTTLS: \(reply)"
        case .plaintextInjection: "upstream sent data after its STARTTLS reply, before TLS (possible plaintext injection)"
        case .authenticationNotOffered: "upstream offers neither AUTH PLAIN nor AUTH LOGIN, but credentials are configured"
        case .authenticationFailed(let reply): "upstream refused the credentials: \(reply)"
        case .credentialsRequireTLS: "refusing to send credentials over a connection without TLS"
        case .serviceClosing(let reply): "upstream is closing the connection: \(reply)"
        case .unexpectedReply(let reply, let command): "unexpected reply to \(command): \(reply)"
        case .malformedReply(let why): "malformed reply from upstream: \(why)"
        }
    }
}

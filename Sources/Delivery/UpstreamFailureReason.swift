/// The `reason` label of `mailrelay_upstream_connection_failures_total`: a small fixed set, so a dashboard
/// can tell a network outage from a TLS problem from refused credentials without reading logs.
public enum UpstreamFailureReason: String, Sendable, CaseIterable {
    /// Name resolution or TCP connect failed, or the connection broke mid-dialogue.
    case connect
    /// TLS handshake or certificate verification failed, or STARTTLS was missing or refused.
    case tls
    /// The upstream refused our credentials, offers no usable mechanism, or would need them sent in clear.
    case auth
    /// A connect, reply or send deadline passed.
    case timeout
    /// A 4xx reply ended the session (421, a refused greeting or EHLO).
    case transient = "4xx"
    /// A 5xx reply ended the session (554 greeting, a reply that makes no sense).
    case permanent = "5xx"
    /// Bytes that are not SMTP, or plaintext injected after STARTTLS.
    case protocolError = "protocol"

    /// How `failure` is counted.
    public init(_ failure: UpstreamFailure) {
        switch failure {
        case .connect(_, let reason):
            self = reason == UpstreamFailure.timedOutReason ? .timeout : .connect
        case .tls:
            self = .tls
        case .lost(_, let reason):
            self = reason.hasPrefix(UpstreamFailure.noReplyWithin) || reason.hasPrefix(UpstreamFailure.couldNotSendWithin)
                ? .timeout : .connect
        case .session(_, let failure):
            switch failure {
            case .authenticationFailed, .authenticationNotOffered, .credentialsRequireTLS: self = .auth
            case .startTLSNotOffered, .startTLSRefused: self = .tls
            case .plaintextInjection, .malformedReply: self = .protocolError
            case .greetingRefused(let reply), .ehloRefused(let reply), .serviceClosing(let reply), .unexpectedReply(let reply, _):
                self = reply.isPermanent ? .permanent : .transient
            }
        }
    }
}

import SMTPProtocol

/// The `reason` label of `mailrelay_messages_rejected_total`: why relayd refused a sender, a recipient or a
/// message. Read from the refusal's RFC 3463 enhanced status code, which is the protocol's own statement of
/// the reason, so the session's replies stay the single source and nothing has to be kept in step with them.
/// Replies that are not refusals of mail (syntax errors, bad sequence, timeouts) have no reason.
public enum RejectionReason: String, Sendable, CaseIterable {
    /// 554 5.7.1 at RCPT: the client is outside `inbound.allowed_networks`.
    case relayDenied = "relay_denied"
    /// 552 5.3.4: SIZE= at MAIL or the data itself over `inbound.max_message_size`.
    case messageSize = "message_size"
    /// 452 4.5.3: more than `inbound.max_recipients`.
    case tooManyRecipients = "too_many_recipients"
    /// 553 5.6.7: a non-ASCII address without SMTPUTF8.
    case smtputf8Required = "smtputf8_required"
    /// 550 5.5.2 after the data: a bare CR or LF (SMTP smuggling defence).
    case bareLineEnd = "bare_line_end"
    /// 554 5.6.0 after the data: NUL in the message.
    case nul
    /// 4.3.x after the data: the spool could not commit (disk full, I/O error).
    case storage
    /// 421 4.7.0 at connect: `inbound.max_connections` reached (counted by the server, not from a reply).
    case maxConnections = "max_connections"
    /// 530 5.7.0 at MAIL: STARTTLS (`inbound.tls.required`) or AUTH (`inbound.auth.required`) has to come first.
    case tlsOrAuthRequired = "tls_or_auth_required"
    /// 535 5.7.8: AUTH with credentials the users file does not hold.
    case authFailed = "auth_failed"
    /// 553 5.7.1 at MAIL: a sender outside `inbound.allowed_sender_domains` or the user's own domains.
    case senderDenied = "sender_denied"
    /// 450 4.7.1 at MAIL: `inbound.rate.messages_per_minute` reached for the client's address or user.
    case messageRate = "message_rate"
    /// 421 4.7.0 at connect: `inbound.rate.connections_per_minute` reached for the client's address (counted
    /// by the server, not from a reply).
    case connectionRate = "connection_rate"

    /// The reason `reply` refuses mail for, or nil when it is not such a refusal.
    public init?(_ reply: SMTPReply) {
        guard reply.code >= 400, let code = reply.enhanced else { return nil }
        switch (reply.code, code.klass, code.subject, code.detail) {
        case (554, 5, 7, 1): self = .relayDenied
        case (552, 5, 3, 4): self = .messageSize
        case (452, 4, 5, 3): self = .tooManyRecipients
        case (553, 5, 6, 7): self = .smtputf8Required
        case (550, 5, 5, 2): self = .bareLineEnd
        case (554, 5, 6, 0): self = .nul
        case (451, 4, 3, _), (452, 4, 3, _): self = .storage
        case (530, 5, 7, 0): self = .tlsOrAuthRequired
        case (535, 5, 7, 8): self = .authFailed
        case (553, 5, 7, 1): self = .senderDenied
        case (450, 4, 7, 1): self = .messageRate
        default: return nil
        }
    }
}

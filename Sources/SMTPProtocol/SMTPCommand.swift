/// A parsed client command (RFC 5321 §4.1.1, with RFC 3207 STARTTLS and RFC 4954 AUTH for later layers).
public enum SMTPCommand: Sendable, Equatable {
    case helo(domain: String)
    case ehlo(domain: String)
    case mail(from: ReversePath, parameters: MailParameters)
    case rcpt(to: Mailbox, parameters: RecipientParameters)
    case data
    case rset
    case noop
    case quit
    case vrfy(String)
    case help
    case starttls
    case auth(mechanism: String, initialResponse: String?)
}

/// MAIL FROM parameters we advertise: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531).
public struct MailParameters: Sendable, Equatable {
    public enum Body: String, Sendable, Equatable, Codable {
        case sevenBit = "7BIT"
        case eightBitMIME = "8BITMIME"
    }
    public var size: Int?
    public var body: Body?
    public var smtputf8: Bool

    public init(size: Int? = nil, body: Body? = nil, smtputf8: Bool = false) {
        self.size = size
        self.body = body
        self.smtputf8 = smtputf8
    }
}

/// RCPT TO parameters; none are advertised yet (DSN's NOTIFY/ORCPT would go here).
public struct RecipientParameters: Sendable, Equatable {
    public init() {}
}

/// Why a command line did not parse; `ServerSession` maps each case to its reply.
public enum SMTPCommandError: Error, Sendable, Equatable {
    case unrecognized
    case lineTooLong
    case containsNUL
    case syntax(String)
    case invalidSender(MailPathError)
    case invalidRecipient(MailPathError)
    case unknownParameter(String)
    case invalidParameterValue(String)
}

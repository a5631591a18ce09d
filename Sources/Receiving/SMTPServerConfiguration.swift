import Authentication
import SMTPProtocol
import Transport

/// What the SMTP listener needs, independent of how relayd's configuration is read.
public struct SMTPServerConfiguration: Sendable {
    public var hostname: String
    public var listen: [ListenAddress]
    public var policy: RelayPolicy
    public var maxMessageSize: Int
    public var maxRecipients: Int
    public var maxConnections: Int
    public var commandTimeout: Duration
    public var dataTimeout: Duration
    /// How long sessions may take to finish after shutdown starts before they are cut off with 421.
    public var shutdownGrace: Duration
    /// The server side of STARTTLS and of the implicit-TLS listeners; nil: STARTTLS is not offered.
    public var tls: TLSContext?
    /// MAIL is refused until the session runs over TLS (`inbound.tls.required`).
    public var tlsRequired: Bool
    /// Listeners that speak TLS from the first byte (RFC 8314 "submissions"), with `tls`.
    public var listenTLS: [ListenAddress]
    /// The users AUTH checks against (`inbound.auth.users_file`); nil: AUTH is not offered.
    public var credentials: CredentialStore?
    /// MAIL is refused until the client authenticated (`inbound.auth.required`).
    public var authRequired: Bool
    /// AUTH over plain text for clients on loopback (`inbound.auth.allow_plaintext_loopback`).
    public var authWithoutTLSOnLoopback: Bool
    /// Lower-cased domains MAIL FROM must belong to (`inbound.allowed_sender_domains`); empty allows any.
    public var allowedSenderDomains: [String]
    /// `inbound.rate`: per client address (and per user for messages), per minute; 0 is unlimited.
    public var messagesPerMinute: Int
    public var connectionsPerMinute: Int

    public init(
        hostname: String, listen: [ListenAddress], policy: RelayPolicy, maxMessageSize: Int,
        maxRecipients: Int, maxConnections: Int, commandTimeout: Duration, dataTimeout: Duration,
        shutdownGrace: Duration = .seconds(10), tls: TLSContext? = nil, tlsRequired: Bool = false,
        listenTLS: [ListenAddress] = [], credentials: CredentialStore? = nil, authRequired: Bool = false,
        authWithoutTLSOnLoopback: Bool = false, allowedSenderDomains: [String] = [], messagesPerMinute: Int = 0,
        connectionsPerMinute: Int = 0
    ) {
        self.hostname = hostname
        self.listen = listen
        self.policy = policy
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
        self.maxConnections = maxConnections
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.shutdownGrace = shutdownGrace
        self.tls = tls
        self.tlsRequired = tlsRequired
        self.listenTLS = listenTLS
        self.credentials = credentials
        self.authRequired = authRequired
        self.authWithoutTLSOnLoopback = authWithoutTLSOnLoopback
        self.allowedSenderDomains = allowedSenderDomains
        self.messagesPerMinute = messagesPerMinute
        self.connectionsPerMinute = connectionsPerMinute
    }

    /// Whether AUTH is offered, and whether MAIL must wait for it.
    func authPolicy() -> AuthPolicy {
        guard credentials != nil else { return .unavailable }
        return authRequired ? .required : .offered
    }

    /// What the session offers a client that connected in plain text, or over TLS from the start.
    func startTLSPolicy() -> StartTLSPolicy {
        guard tls != nil else { return .unavailable }
        return tlsRequired ? .required : .offered
    }
}

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

    public init(
        hostname: String, listen: [ListenAddress], policy: RelayPolicy, maxMessageSize: Int,
        maxRecipients: Int, maxConnections: Int, commandTimeout: Duration, dataTimeout: Duration,
        shutdownGrace: Duration = .seconds(10), tls: TLSContext? = nil, tlsRequired: Bool = false,
        listenTLS: [ListenAddress] = []
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
    }

    /// What the session offers a client that connected in plain text, or over TLS from the start.
    func startTLSPolicy() -> StartTLSPolicy {
        guard tls != nil else { return .unavailable }
        return tlsRequired ? .required : .offered
    }
}

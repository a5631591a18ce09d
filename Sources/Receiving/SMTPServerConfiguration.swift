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

    public init(
        hostname: String, listen: [ListenAddress], policy: RelayPolicy, maxMessageSize: Int,
        maxRecipients: Int, maxConnections: Int, commandTimeout: Duration, dataTimeout: Duration,
        shutdownGrace: Duration = .seconds(10)
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
    }
}

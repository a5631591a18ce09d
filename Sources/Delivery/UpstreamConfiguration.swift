import SMTPProtocol
import Transport

/// How to reach and talk to the upstream smarthost: address, TLS, login, limits and timeouts.
public struct UpstreamConfiguration: Sendable {
    public var host: String
    public var port: UInt16
    public var security: ClientSession.Security
    /// Required unless `security` is `.none`.
    public var tlsContext: TLSContext?
    public var credentials: SASLCredentials?
    /// The name we give in EHLO.
    public var heloName: String
    /// Sessions open at once; the queue runner runs as many workers.
    public var connections: Int
    public var connectTimeout: Duration
    public var commandTimeout: Duration
    public var dataTimeout: Duration
    public var idleTimeout: Duration
    /// The event loop upstream sockets wait on: the queue runner's executor, so replies need no thread hop.
    public var loop: EventLoop

    public init(
        host: String, port: UInt16, security: ClientSession.Security, tlsContext: TLSContext?,
        credentials: SASLCredentials?, heloName: String, connections: Int, connectTimeout: Duration,
        commandTimeout: Duration, dataTimeout: Duration, idleTimeout: Duration, loop: EventLoop = .shared
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.tlsContext = tlsContext
        self.credentials = credentials
        self.heloName = heloName
        self.connections = connections
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.idleTimeout = idleTimeout
        self.loop = loop
    }

    /// `host:port` as configured, for log lines written before an address is known.
    public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Whether the password may cross an unencrypted connection: only with `tls: none` to this machine,
    /// where nobody can listen in (a test upstream, a sidecar).
    var allowsPlaintextAuthentication: Bool {
        guard security == .none else { return false }
        if host == "localhost" { return true }
        guard let address = IPNetwork.parseAddress(host) else { return false }
        return ["127.0.0.0/8", "::1/128"].compactMap(IPNetwork.init).contains { $0.contains(address) }
    }

    /// The session settings derived from this configuration.
    var session: ClientSession.Configuration {
        ClientSession.Configuration(
            heloName: heloName, security: security, credentials: credentials,
            allowPlaintextAuthentication: allowsPlaintextAuthentication)
    }
}

import Transport

/// Everything relayd is configured with, validated and typed. Built by `RelaySettings.load`.
public struct RelaySettings: Sendable, Equatable {
    /// Greeting, Received: header and EHLO name towards the upstream.
    public var hostname: String
    public var log: LogSettings
    public var listen: ListenSettings
    public var spool: SpoolSettings
    public var outbox: OutboxSettings
    public var inbound: InboundSettings
    /// The primary smarthost: `upstream:`, or the first entry of `upstreams:`.
    public var upstream: UpstreamSettings
    /// `upstreams[1...]` (so `fallbackUpstreams[0]` is `upstreams[1]`), tried in order when the one before is
    /// unreachable or answers 4xx at connect. Empty without fallbacks; when not empty, `upstream.host` is not either.
    public var fallbackUpstreams: [UpstreamSettings]
    public var retry: RetrySettings
    public var bounces: BounceMode
    public var shutdown: ShutdownSettings
    public var reload: ReloadSettings

    public init(
        hostname: String, log: LogSettings, listen: ListenSettings, spool: SpoolSettings,
        outbox: OutboxSettings, inbound: InboundSettings, upstream: UpstreamSettings,
        fallbackUpstreams: [UpstreamSettings] = [], retry: RetrySettings, bounces: BounceMode,
        shutdown: ShutdownSettings = ShutdownSettings(drain: .zero),
        reload: ReloadSettings = ReloadSettings(watchInterval: .seconds(5))
    ) {
        self.hostname = hostname
        self.log = log
        self.listen = listen
        self.spool = spool
        self.outbox = outbox
        self.inbound = inbound
        self.upstream = upstream
        self.fallbackUpstreams = fallbackUpstreams
        self.retry = retry
        self.bounces = bounces
        self.shutdown = shutdown
        self.reload = reload
    }
}

/// `reload:` — how relayd notices that its configuration changed (it always reloads on SIGHUP).
public struct ReloadSettings: Sendable, Equatable {
    /// How often the config file and the files it names (password_file, ca_file, inbound.tls's certificate and key,
    /// inbound.auth's users file) are checked for changes,
    /// including Kubernetes' symlink swaps of mounted ConfigMaps and Secrets; zero checks only on SIGHUP.
    public var watchInterval: Duration
    public init(watchInterval: Duration) { self.watchInterval = watchInterval }
}

/// `shutdown:` — what relayd does with its queue when told to stop.
public struct ShutdownSettings: Sendable, Equatable {
    /// How long to keep delivering the queue after SIGTERM before exiting (zero: leave it queued), for
    /// installs whose spool does not outlive the pod.
    public var drain: Duration
    public init(drain: Duration) { self.drain = drain }
}

/// `log:` — how relayd writes its log lines (always to stderr).
public struct LogSettings: Sendable, Equatable {
    public enum Format: String, Sendable, Equatable, CaseIterable { case logfmt, json }
    /// trace, debug, info, notice, warning, error, critical.
    public enum Level: String, Sendable, Equatable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }
    public var format: Format
    public var level: Level
    public init(format: Format, level: Level) {
        self.format = format
        self.level = level
    }
}

/// `listen:` — sockets relayd opens. Changing them needs a restart.
public struct ListenSettings: Sendable, Equatable {
    public var smtp: [ListenAddress]
    public var admin: ListenAddress?
    public var control: String
    /// Implicit-TLS (RFC 8314) SMTP listeners, serving `inbound.tls`'s certificate; empty when there are none.
    public var smtps: [ListenAddress]
    public init(smtp: [ListenAddress], admin: ListenAddress?, control: String, smtps: [ListenAddress] = []) {
        self.smtp = smtp
        self.admin = admin
        self.control = control
        self.smtps = smtps
    }
}

/// `spool:` — where the queue lives.
public struct SpoolSettings: Sendable, Equatable {
    public var path: String
    public init(path: String) { self.path = path }
}

/// `outbox:` — the local delivery folder used when `upstream.host` is empty.
public struct OutboxSettings: Sendable, Equatable {
    public var path: String
    public init(path: String) { self.path = path }
}

/// `inbound:` — the SMTP listener's relay policy and limits.
public struct InboundSettings: Sendable, Equatable {
    public var allowedNetworks: [IPNetwork]
    /// Bytes.
    public var maxMessageSize: Int
    public var maxRecipients: Int
    public var maxConnections: Int
    public var commandTimeout: Duration
    public var dataTimeout: Duration
    public var tls: InboundTLSSettings
    public var auth: InboundAuthSettings
    /// Domains clients may use in MAIL FROM, lowercased; empty allows any. A user's own domains in the users file
    /// take precedence for that user, and the null sender `<>` is always allowed, so bounces keep flowing.
    public var allowedSenderDomains: [String]
    public var rate: InboundRateSettings
    public init(
        allowedNetworks: [IPNetwork], maxMessageSize: Int, maxRecipients: Int, maxConnections: Int,
        commandTimeout: Duration, dataTimeout: Duration, tls: InboundTLSSettings = InboundTLSSettings(),
        auth: InboundAuthSettings = InboundAuthSettings(), allowedSenderDomains: [String] = [],
        rate: InboundRateSettings = InboundRateSettings()
    ) {
        self.allowedNetworks = allowedNetworks
        self.maxMessageSize = maxMessageSize
        self.maxRecipients = maxRecipients
        self.maxConnections = maxConnections
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.tls = tls
        self.auth = auth
        self.allowedSenderDomains = allowedSenderDomains
        self.rate = rate
    }
}

/// `inbound.auth:` — SMTP AUTH (PLAIN, LOGIN) for clients, so they may relay from outside `allowed_networks`.
public struct InboundAuthSettings: Sendable, Equatable {
    /// The users and their password hashes (`name:$scrypt$…[:domain,…]` per line); "" turns AUTH off. Only
    /// checked to be a readable file here: relayd parses it, again whenever it changes.
    public var usersFile: String
    /// Whether MAIL from a client that has not authenticated is refused (530 5.7.0).
    public var required: Bool
    /// Whether AUTH is also offered without TLS to clients on a loopback address, where no one can listen in.
    public var allowPlaintextLoopback: Bool
    /// Whether a users file is configured, so AUTH is offered.
    public var isEnabled: Bool { !usersFile.isEmpty }
    public init(usersFile: String = "", required: Bool = false, allowPlaintextLoopback: Bool = false) {
        self.usersFile = usersFile
        self.required = required
        self.allowPlaintextLoopback = allowPlaintextLoopback
    }
}

/// `inbound.rate:` — limits per minute, counted over the last 60 seconds; 0 is unlimited.
public struct InboundRateSettings: Sendable, Equatable {
    /// Messages (MAIL commands) per client address, and separately per authenticated user.
    public var messagesPerMinute: Int
    /// New connections per client address.
    public var connectionsPerMinute: Int
    public init(messagesPerMinute: Int = 0, connectionsPerMinute: Int = 0) {
        self.messagesPerMinute = messagesPerMinute
        self.connectionsPerMinute = connectionsPerMinute
    }
}

/// `inbound.tls:` — the certificate offered to clients, by STARTTLS and on the `listen.smtps` listeners.
public struct InboundTLSSettings: Sendable, Equatable {
    /// PEM certificate chain, leaf first; "" turns inbound TLS off.
    public var certificateFile: String
    /// PEM private key of that certificate; set exactly when `certificateFile` is.
    public var keyFile: String
    /// Whether MAIL is refused (530 5.7.0) until the client has done STARTTLS.
    public var required: Bool
    /// Whether a certificate is configured, so STARTTLS is offered.
    public var isEnabled: Bool { !certificateFile.isEmpty }
    public init(certificateFile: String = "", keyFile: String = "", required: Bool = false) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.required = required
    }
}

/// `upstream:` (or one entry of `upstreams:`) — a smarthost mail is relayed to. An empty host means "deliver to the outbox".
public struct UpstreamSettings: Sendable, Equatable {
    public enum TLSMode: String, Sendable, Equatable, CaseIterable { case starttls, implicit, none }
    public var host: String
    public var port: UInt16
    public var tls: TLSMode
    public var verifyCertificate: Bool
    public var caFile: String
    public var username: String
    /// The password itself, read from `password` or from the file named by `password_file`. Never logged.
    public var password: String
    /// The file the password came from, kept so a reload can re-read it.
    public var passwordFile: String
    public var connections: Int
    /// Time allowed for TCP connect and, with implicit TLS, the handshake.
    public var connectTimeout: Duration
    /// Time allowed for each reply to a command, and for the TLS handshake after STARTTLS.
    public var commandTimeout: Duration
    /// Time allowed for sending the message and for the reply to its final dot.
    public var dataTimeout: Duration
    /// How long an unused connection is kept open for the next message.
    public var idleTimeout: Duration
    public init(
        host: String, port: UInt16, tls: TLSMode, verifyCertificate: Bool, caFile: String,
        username: String, password: String, passwordFile: String, connections: Int,
        connectTimeout: Duration = .seconds(30), commandTimeout: Duration = .seconds(300),
        dataTimeout: Duration = .seconds(600), idleTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.verifyCertificate = verifyCertificate
        self.caFile = caFile
        self.username = username
        self.password = password
        self.passwordFile = passwordFile
        self.connections = connections
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.idleTimeout = idleTimeout
    }
}

/// `retry:` — backoff between delivery attempts and how long a message may stay queued.
public struct RetrySettings: Sendable, Equatable {
    public var first: Duration
    public var max: Duration
    public var multiplier: Double
    public var jitter: Double
    public var lifetime: Duration
    public init(first: Duration, max: Duration, multiplier: Double, jitter: Double, lifetime: Duration) {
        self.first = first
        self.max = max
        self.multiplier = multiplier
        self.jitter = jitter
        self.lifetime = lifetime
    }
}

/// `bounces:` — whether permanent failures produce a delivery status notification to the sender.
public enum BounceMode: String, Sendable, Equatable, CaseIterable { case dsn, none }

import FoundationEssentials

/// Every key a config file or a `RELAY_*` variable may set: the one list unknown keys are checked against.
enum SettingKey: String, CaseIterable, Sendable {
    case hostname
    case logFormat = "log.format"
    case logLevel = "log.level"
    case listenSMTP = "listen.smtp"
    case listenSMTPS = "listen.smtps"
    case listenAdmin = "listen.admin"
    case listenControl = "listen.control"
    case spoolPath = "spool.path"
    case outboxPath = "outbox.path"
    case inboundAllowedNetworks = "inbound.allowed_networks"
    case inboundMaxMessageSize = "inbound.max_message_size"
    case inboundMaxRecipients = "inbound.max_recipients"
    case inboundMaxConnections = "inbound.max_connections"
    case inboundCommandTimeout = "inbound.command_timeout"
    case inboundDataTimeout = "inbound.data_timeout"
    case inboundTLSCertificateFile = "inbound.tls.certificate_file"
    case inboundTLSKeyFile = "inbound.tls.key_file"
    case inboundTLSRequired = "inbound.tls.required"
    case inboundAuthUsersFile = "inbound.auth.users_file"
    case inboundAuthRequired = "inbound.auth.required"
    case inboundAuthAllowPlaintextLoopback = "inbound.auth.allow_plaintext_loopback"
    case inboundAllowedSenderDomains = "inbound.allowed_sender_domains"
    case inboundRateMessagesPerMinute = "inbound.rate.messages_per_minute"
    case inboundRateConnectionsPerMinute = "inbound.rate.connections_per_minute"
    case upstreamHost = "upstream.host"
    case upstreamPort = "upstream.port"
    case upstreamTLS = "upstream.tls"
    case upstreamVerifyCertificate = "upstream.verify_certificate"
    case upstreamCAFile = "upstream.ca_file"
    case upstreamUsername = "upstream.username"
    case upstreamPassword = "upstream.password"
    case upstreamPasswordFile = "upstream.password_file"
    case upstreamConnections = "upstream.connections"
    case upstreamConnectTimeout = "upstream.connect_timeout"
    case upstreamCommandTimeout = "upstream.command_timeout"
    case upstreamDataTimeout = "upstream.data_timeout"
    case upstreamIdleTimeout = "upstream.idle_timeout"
    case retryFirst = "retry.first"
    case retryMax = "retry.max"
    case retryMultiplier = "retry.multiplier"
    case retryJitter = "retry.jitter"
    case retryLifetime = "retry.lifetime"
    case bounces
    case shutdownDrain = "shutdown.drain"
    case reloadWatchInterval = "reload.watch_interval"

    /// The dotted path as written in YAML, e.g. `inbound.max_message_size`.
    var path: String { rawValue }

    /// Lists are YAML sequences in the file and comma-separated in the environment.
    var isList: Bool {
        self == .listenSMTP || self == .listenSMTPS || self == .inboundAllowedNetworks || self == .inboundAllowedSenderDomains
    }

    /// Secret values are masked by swift-configuration's access reporting and by `redactedDescription`.
    var isSecret: Bool { self == .upstreamPassword }

    /// `RELAY_` + the path in upper snake case; this is also what swift-configuration's
    /// EnvironmentVariablesProvider derives from the key `relay.<path>`.
    var environmentName: String {
        "RELAY_" + path.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Mapping names that may hold keys, by dotted path: every proper prefix of a key path (`log`, `inbound`,
    /// `inbound.tls`, …), for telling "section" from "typo" at any depth.
    static let sections: Set<String> = Set(allCases.flatMap { key in
        let components = key.path.split(separator: ".")
        return (1..<components.count).map { components.prefix($0).joined(separator: ".") }
    })

    /// `RELAY_*` variables that are read by the executables, not by the configuration.
    static let nonConfigEnvironmentNames: Set<String> = ["RELAY_CONFIG", "RELAY_CONTROL_SOCKET"]
}

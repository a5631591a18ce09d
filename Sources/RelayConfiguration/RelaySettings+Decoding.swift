import FoundationEssentials
import Transport

extension RelaySettings {
    /// Reads every key over `defaults`, checking each value on its own; combinations are checked afterwards.
    static func decode(_ r: SettingsReader, defaults d: RelaySettings) throws(ConfigurationError) -> RelaySettings {
        let hostname = r.string(.hostname, default: d.hostname)
        guard !hostname.isEmpty else { throw r.error(.hostname, "must not be empty") }
        guard !hostname.contains(where: \.isWhitespace) else {
            throw r.error(.hostname, "\"\(hostname)\" contains a space; use a host name like relay.example.com")
        }
        return RelaySettings(
            hostname: hostname,
            log: LogSettings(
                format: try r.choice(.logFormat, default: d.log.format),
                level: try r.choice(.logLevel, default: d.log.level)
            ),
            listen: try decodeListen(r, defaults: d.listen),
            spool: SpoolSettings(path: try r.path(.spoolPath, default: d.spool.path)),
            outbox: OutboxSettings(path: try r.path(.outboxPath, default: d.outbox.path)),
            inbound: try decodeInbound(r, defaults: d.inbound),
            upstream: try decodeUpstream(r, defaults: d.upstream),
            fallbackUpstreams: try decodeFallbackUpstreams(r, defaults: d.upstream),
            retry: try decodeRetry(r, defaults: d.retry),
            bounces: try r.choice(.bounces, default: d.bounces),
            shutdown: ShutdownSettings(drain: try r.duration(.shutdownDrain, default: d.shutdown.drain, allowsZero: true)),
            reload: ReloadSettings(
                watchInterval: try r.duration(.reloadWatchInterval, default: d.reload.watchInterval, allowsZero: true))
        )
    }

    private static func decodeListen(_ r: SettingsReader, defaults d: ListenSettings) throws(ConfigurationError) -> ListenSettings {
        var smtp = d.smtp
        if let items = r.list(.listenSMTP) {
            guard !items.isEmpty else { throw r.error(.listenSMTP, "must list at least one address, e.g. [\"0.0.0.0:2525\"]") }
            smtp = []
            for item in items { smtp.append(try r.address(.listenSMTP, text: item)) }
        }
        // Unlike listen.smtp this may be empty: implicit TLS is an addition to the plain listeners.
        var smtps = d.smtps
        if let items = r.list(.listenSMTPS) {
            smtps = []
            for item in items { smtps.append(try r.address(.listenSMTPS, text: item)) }
        }
        var admin = d.admin
        if let text = r.text(.listenAdmin) {
            admin = text.isEmpty ? nil : try r.address(.listenAdmin, text: text)
        }
        let control = try r.path(.listenControl, default: d.control)
        // sun_path holds 108 bytes including the terminating NUL; a longer path fails only at bind time.
        guard control.utf8.count <= 107 else {
            throw r.error(.listenControl, "\"\(control)\" is \(control.utf8.count) bytes; a socket path must be at most 107")
        }
        return ListenSettings(smtp: smtp, admin: admin, control: control, smtps: smtps)
    }

    private static func decodeInbound(_ r: SettingsReader, defaults d: InboundSettings) throws(ConfigurationError) -> InboundSettings {
        var networks = d.allowedNetworks
        if let items = r.list(.inboundAllowedNetworks) {
            networks = []
            for item in items {
                guard let network = IPNetwork(item.trimmingCharacters(in: .whitespaces)) else {
                    throw r.error(.inboundAllowedNetworks, "\"\(item)\" is not a network (use e.g. 10.0.0.0/8 or fc00::/7)")
                }
                networks.append(network)
            }
        }
        return InboundSettings(
            allowedNetworks: networks,
            maxMessageSize: try r.size(.inboundMaxMessageSize, default: d.maxMessageSize),
            maxRecipients: try r.integer(.inboundMaxRecipients, default: d.maxRecipients, minimum: 1),
            maxConnections: try r.integer(.inboundMaxConnections, default: d.maxConnections, minimum: 1),
            commandTimeout: try r.duration(.inboundCommandTimeout, default: d.commandTimeout),
            dataTimeout: try r.duration(.inboundDataTimeout, default: d.dataTimeout),
            tls: InboundTLSSettings(
                certificateFile: r.string(.inboundTLSCertificateFile, default: d.tls.certificateFile),
                keyFile: r.string(.inboundTLSKeyFile, default: d.tls.keyFile),
                required: try r.flag(.inboundTLSRequired, default: d.tls.required)),
            auth: InboundAuthSettings(
                usersFile: r.string(.inboundAuthUsersFile, default: d.auth.usersFile),
                required: try r.flag(.inboundAuthRequired, default: d.auth.required),
                allowPlaintextLoopback: try r.flag(.inboundAuthAllowPlaintextLoopback, default: d.auth.allowPlaintextLoopback)),
            allowedSenderDomains: try decodeSenderDomains(r, defaults: d.allowedSenderDomains),
            rate: InboundRateSettings(
                messagesPerMinute: try r.integer(.inboundRateMessagesPerMinute, default: d.rate.messagesPerMinute, minimum: 0),
                connectionsPerMinute: try r.integer(
                    .inboundRateConnectionsPerMinute, default: d.rate.connectionsPerMinute, minimum: 0))
        )
    }

    /// Lowercased, as domains compare case-insensitively; a mistyped entry (an address, a space) would
    /// otherwise just never match and refuse the senders it was meant to allow.
    private static func decodeSenderDomains(_ r: SettingsReader, defaults d: [String]) throws(ConfigurationError) -> [String] {
        guard let items = r.list(.inboundAllowedSenderDomains) else { return d }
        var domains: [String] = []
        for item in items {
            let domain = item.trimmingCharacters(in: .whitespaces).lowercased()
            guard isDomainName(domain) else {
                throw r.error(.inboundAllowedSenderDomains,
                              "\"\(item)\" is not a domain (letters, digits, hyphens and dots, e.g. example.com)")
            }
            domains.append(domain)
        }
        return domains
    }

    /// ASCII labels (an internationalized name in its xn-- form) separated by single dots.
    private static func isDomainName(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return !text.isEmpty && labels.allSatisfy { label in
            !label.isEmpty && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    /// One upstream, the primary or (through `r.reading(upstream:)`) a fallback; `d` fills the keys it leaves out.
    static func decodeUpstream(_ r: SettingsReader, defaults d: UpstreamSettings) throws(ConfigurationError) -> UpstreamSettings {
        let host = r.string(.upstreamHost, default: d.host).trimmingCharacters(in: .whitespaces)
        guard !host.contains(where: \.isWhitespace) else {
            throw r.error(.upstreamHost, "\"\(host)\" contains a space; use a host name like smtp-relay.brevo.com")
        }
        return UpstreamSettings(
            host: host,
            port: try r.value(.upstreamPort, default: d.port, expected: "a port (1-65535)") { text in
                UInt16(text.trimmingCharacters(in: .whitespaces)).flatMap { $0 == 0 ? nil : $0 }
            },
            tls: try r.choice(.upstreamTLS, default: d.tls),
            verifyCertificate: try r.flag(.upstreamVerifyCertificate, default: d.verifyCertificate),
            caFile: r.string(.upstreamCAFile, default: d.caFile),
            username: r.string(.upstreamUsername, default: d.username),
            password: r.string(.upstreamPassword, default: d.password),
            passwordFile: r.string(.upstreamPasswordFile, default: d.passwordFile),
            connections: try r.integer(.upstreamConnections, default: d.connections, minimum: 1),
            connectTimeout: try r.duration(.upstreamConnectTimeout, default: d.connectTimeout),
            commandTimeout: try r.duration(.upstreamCommandTimeout, default: d.commandTimeout),
            dataTimeout: try r.duration(.upstreamDataTimeout, default: d.dataTimeout),
            idleTimeout: try r.duration(.upstreamIdleTimeout, default: d.idleTimeout)
        )
    }

    private static func decodeRetry(_ r: SettingsReader, defaults d: RetrySettings) throws(ConfigurationError) -> RetrySettings {
        let multiplier = try r.decimal(.retryMultiplier, default: d.multiplier)
        guard multiplier >= 1 else { throw r.error(.retryMultiplier, "\(multiplier) is too small (at least 1)") }
        let jitter = try r.decimal(.retryJitter, default: d.jitter)
        guard jitter >= 0, jitter < 1 else {
            throw r.error(.retryJitter, "\(jitter) is out of range (0 or more, less than 1; e.g. 0.2 for ±20%)")
        }
        return RetrySettings(
            first: try r.duration(.retryFirst, default: d.first),
            max: try r.duration(.retryMax, default: d.max),
            multiplier: multiplier,
            jitter: jitter,
            lifetime: try r.duration(.retryLifetime, default: d.lifetime)
        )
    }
}

import Transport

extension RelaySettings {
    /// Built-in defaults (what `swift run relayd` uses with no config file).
    ///
    /// They suit a developer machine: loopback listeners, paths under ./var, no upstream (mail goes to the
    /// outbox folder). config/relay.dev.yaml spells out the same values.
    public static func defaults(hostname: String) -> RelaySettings {
        RelaySettings(
            hostname: hostname,
            log: LogSettings(format: .logfmt, level: .info),
            listen: ListenSettings(
                smtp: [ListenAddress(host: "127.0.0.1", port: 2525)],
                admin: ListenAddress(host: "127.0.0.1", port: 9025),
                control: "./var/run/relay.sock",
                smtps: []
            ),
            spool: SpoolSettings(path: "./var/spool"),
            outbox: OutboxSettings(path: "./var/outbox"),
            inbound: InboundSettings(
                // Loopback and the private ranges: a relay that accepts from anywhere is an open relay.
                allowedNetworks: ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
                    .compactMap(IPNetwork.init),
                maxMessageSize: 10 << 20,
                maxRecipients: 100,
                maxConnections: 1000,
                commandTimeout: .seconds(5 * 60),
                dataTimeout: .seconds(10 * 60),
                // No certificate: STARTTLS is not offered, as a developer machine has none to offer.
                tls: InboundTLSSettings(certificateFile: "", keyFile: "", required: false),
                // No users: clients relay by network alone, as they did before AUTH existed.
                auth: InboundAuthSettings(usersFile: "", required: false, allowPlaintextLoopback: false),
                allowedSenderDomains: [],
                rate: InboundRateSettings(messagesPerMinute: 0, connectionsPerMinute: 0)
            ),
            upstream: UpstreamSettings(
                host: "", port: 587, tls: .starttls, verifyCertificate: true, caFile: "",
                username: "", password: "", passwordFile: "", connections: 4
            ),
            // Postfix-like backoff (it uses 300s..4000s), started sooner because most upstream hiccups are short.
            retry: RetrySettings(
                first: .seconds(60), max: .seconds(3600), multiplier: 2, jitter: 0.2, lifetime: .seconds(5 * 86_400)
            ),
            bounces: .dsn,
            shutdown: ShutdownSettings(drain: .zero),
            reload: ReloadSettings(watchInterval: .seconds(5))
        )
    }
}

extension RelaySettings {
    /// Returns a printable, secrets-masked rendering of the effective settings (for logs / `relayctl check-config`).
    ///
    /// It is valid config YAML in the documented layout, so an operator can copy it into a file; only the
    /// passwords are replaced (by `<redacted>`), and an empty password stays visibly empty.
    public var redactedDescription: String {
        let q = Self.quoted
        let head = """
            hostname: \(q(hostname))
            log:
              format: \(log.format.rawValue)
              level: \(log.level.rawValue)
            listen:
              smtp: [\(listen.smtp.map { q($0.description) }.joined(separator: ", "))]
              smtps: [\(listen.smtps.map { q($0.description) }.joined(separator: ", "))]
              admin: \(q(listen.admin?.description ?? ""))
              control: \(q(listen.control))
            spool:
              path: \(q(spool.path))
            outbox:
              path: \(q(outbox.path))
            inbound:
              allowed_networks: [\(inbound.allowedNetworks.map { q($0.description) }.joined(separator: ", "))]
              max_message_size: \(ByteSize(bytes: inbound.maxMessageSize))
              max_recipients: \(inbound.maxRecipients)
              max_connections: \(inbound.maxConnections)
              command_timeout: \(inbound.commandTimeout.configText)
              data_timeout: \(inbound.dataTimeout.configText)
              tls:
                certificate_file: \(q(inbound.tls.certificateFile))
                key_file: \(q(inbound.tls.keyFile))
                required: \(inbound.tls.required)
              auth:
                users_file: \(q(inbound.auth.usersFile))
                required: \(inbound.auth.required)
                allow_plaintext_loopback: \(inbound.auth.allowPlaintextLoopback)
              allowed_sender_domains: [\(inbound.allowedSenderDomains.map(q).joined(separator: ", "))]
              rate:
                messages_per_minute: \(inbound.rate.messagesPerMinute)
                connections_per_minute: \(inbound.rate.connectionsPerMinute)

            """
        let tail = """
            retry:
              first: \(retry.first.configText)
              max: \(retry.max.configText)
              multiplier: \(Self.number(retry.multiplier))
              jitter: \(Self.number(retry.jitter))
              lifetime: \(retry.lifetime.configText)
            bounces: \(bounces.rawValue)
            shutdown:
              drain: \(shutdown.drain.configText)
            reload:
              watch_interval: \(reload.watchInterval.configText)

            """
        return head + upstreamSection + tail
    }

    /// `upstream:` as a mapping, or, with fallbacks, `upstreams:` as a list of them (the form that has to be loaded back).
    private var upstreamSection: String {
        guard !fallbackUpstreams.isEmpty else {
            return "upstream:\n" + Self.lines(of: upstream).map { "  \($0)\n" }.joined()
        }
        return "\(SettingKey.upstreamList):\n" + ([upstream] + fallbackUpstreams).map { entry in
            Self.lines(of: entry).enumerated().map { $0.offset == 0 ? "  - \($0.element)\n" : "    \($0.element)\n" }.joined()
        }.joined()
    }

    /// One upstream's `key: value` lines, in the documented order.
    private static func lines(of upstream: UpstreamSettings) -> [String] {
        [
            "host: \(quoted(upstream.host))",
            "port: \(upstream.port)",
            "tls: \(upstream.tls.rawValue)",
            "verify_certificate: \(upstream.verifyCertificate)",
            "ca_file: \(quoted(upstream.caFile))",
            "username: \(quoted(upstream.username))",
            "password: \(quoted(maskedPassword(of: upstream)))",
            "password_file: \(quoted(upstream.passwordFile))",
            "connections: \(upstream.connections)",
            "connect_timeout: \(upstream.connectTimeout.configText)",
            "command_timeout: \(upstream.commandTimeout.configText)",
            "data_timeout: \(upstream.dataTimeout.configText)",
            "idle_timeout: \(upstream.idleTimeout.configText)",
        ]
    }

    /// A password read from password_file shows as "" so the rendering stays a valid file (both set is an error).
    private static func maskedPassword(of upstream: UpstreamSettings) -> String {
        upstream.password.isEmpty || !upstream.passwordFile.isEmpty ? "" : "<redacted>"
    }

    /// `2` rather than Swift's `2.0`, matching how the documentation writes multipliers.
    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// A YAML double-quoted scalar; also valid JSON, so log pipelines can read it.
    private static func quoted(_ text: String) -> String { jsonStringLiteral(text) }
}

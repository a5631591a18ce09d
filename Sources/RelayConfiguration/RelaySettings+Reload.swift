extension RelaySettings {
    /// The settings to run with after a reload that loaded `new`, and what changed.
    ///
    /// Keys that need a restart keep their running values, so the result describes what is really in
    /// force and a later reload reports them again until relayd restarts. Switching between the outbox
    /// and an upstream (`upstream.host` empty or not) is a restart too: the delivery transport is chosen
    /// at start-up, so the whole upstream section then stays as it is.
    public func reloaded(with new: RelaySettings) -> (settings: RelaySettings, change: SettingsChange) {
        var change = SettingsChange()
        var result = new
        func compare<Value: Equatable>(_ key: String, _ path: WritableKeyPath<RelaySettings, Value>, restart: Bool = false) {
            guard self[keyPath: path] != new[keyPath: path] else { return }
            if restart {
                change.needsRestart.append(key)
                result[keyPath: path] = self[keyPath: path]
            } else {
                change.applied.append(key)
            }
        }
        compare(SettingKey.hostname.path, \.hostname)
        compare(SettingKey.logFormat.path, \.log.format, restart: true)
        compare(SettingKey.logLevel.path, \.log.level)
        compare(SettingKey.listenSMTP.path, \.listen.smtp, restart: true)
        compare(SettingKey.listenSMTPS.path, \.listen.smtps, restart: true)
        compare(SettingKey.listenAdmin.path, \.listen.admin, restart: true)
        compare(SettingKey.listenControl.path, \.listen.control, restart: true)
        compare(SettingKey.spoolPath.path, \.spool.path, restart: true)
        compare(SettingKey.outboxPath.path, \.outbox.path, restart: true)
        compare(SettingKey.inboundAllowedNetworks.path, \.inbound.allowedNetworks)
        compare(SettingKey.inboundMaxMessageSize.path, \.inbound.maxMessageSize)
        compare(SettingKey.inboundMaxRecipients.path, \.inbound.maxRecipients)
        compare(SettingKey.inboundMaxConnections.path, \.inbound.maxConnections)
        compare(SettingKey.inboundCommandTimeout.path, \.inbound.commandTimeout)
        compare(SettingKey.inboundDataTimeout.path, \.inbound.dataTimeout)
        compare(SettingKey.inboundTLSCertificateFile.path, \.inbound.tls.certificateFile)
        compare(SettingKey.inboundTLSKeyFile.path, \.inbound.tls.keyFile)
        compare(SettingKey.inboundTLSRequired.path, \.inbound.tls.required)
        keepCertificateForRunningImplicitTLSListeners(&result, change: &change)
        compare(SettingKey.inboundAuthUsersFile.path, \.inbound.auth.usersFile)
        compare(SettingKey.inboundAuthRequired.path, \.inbound.auth.required)
        compare(SettingKey.inboundAuthAllowPlaintextLoopback.path, \.inbound.auth.allowPlaintextLoopback)
        compare(SettingKey.inboundAllowedSenderDomains.path, \.inbound.allowedSenderDomains)
        compare(SettingKey.inboundRateMessagesPerMinute.path, \.inbound.rate.messagesPerMinute)
        compare(SettingKey.inboundRateConnectionsPerMinute.path, \.inbound.rate.connectionsPerMinute)
        if upstream.host.isEmpty != new.upstream.host.isEmpty {
            change.needsRestart.append(SettingKey.upstreamHost.path)
            result.upstream = upstream
            result.fallbackUpstreams = fallbackUpstreams
        } else {
            compareUpstreams(with: new, into: &result, change: &change)
        }
        compare(SettingKey.retryFirst.path, \.retry.first)
        compare(SettingKey.retryMax.path, \.retry.max)
        compare(SettingKey.retryMultiplier.path, \.retry.multiplier)
        compare(SettingKey.retryJitter.path, \.retry.jitter)
        compare(SettingKey.retryLifetime.path, \.retry.lifetime)
        compare(SettingKey.bounces.path, \.bounces)
        compare(SettingKey.shutdownDrain.path, \.shutdown.drain)
        compare(SettingKey.reloadWatchInterval.path, \.reload.watchInterval)
        return (result, change)
    }

    /// Implicit-TLS listeners kept until the restart still need a certificate: a reload that removes it together
    /// with `listen.smtps` (valid on its own) keeps the running certificate and key until then too.
    private func keepCertificateForRunningImplicitTLSListeners(_ result: inout RelaySettings, change: inout SettingsChange) {
        guard !result.listen.smtps.isEmpty, !result.inbound.tls.isEnabled else { return }
        let keys = [SettingKey.inboundTLSCertificateFile.path, SettingKey.inboundTLSKeyFile.path]
        change.applied.removeAll { keys.contains($0) }
        change.needsRestart += keys
        result.inbound.tls.certificateFile = inbound.tls.certificateFile
        result.inbound.tls.keyFile = inbound.tls.keyFile
    }

    /// Each upstream's keys by the name operators know them by (`upstream.port`, `upstreams[2].port`); a
    /// fallback added or removed shows as `upstreams`. The primary's `connections` sizes the worker pool:
    /// restart only (a fallback's is not used, so a change to it is merely taken).
    private func compareUpstreams(with new: RelaySettings, into result: inout RelaySettings, change: inout SettingsChange) {
        let old = [upstream] + fallbackUpstreams
        var updated = [new.upstream] + new.fallbackUpstreams
        if old.count != updated.count { change.applied.append(SettingKey.upstreamList) }
        for index in updated.indices {
            guard index < old.count else { continue }
            for key in SettingKey.upstreamKeys {
                guard !Self.sameValue(of: key, old[index], updated[index]) else { continue }
                let name = index == 0 ? key.path : key.listName(index)
                if key == .upstreamConnections, index == 0 {
                    change.needsRestart.append(name)
                    updated[index].connections = old[index].connections
                } else {
                    change.applied.append(name)
                }
            }
        }
        result.upstream = updated[0]
        result.fallbackUpstreams = Array(updated.dropFirst())
    }

    private static func sameValue(of key: SettingKey, _ a: UpstreamSettings, _ b: UpstreamSettings) -> Bool {
        switch key {
        case .upstreamHost: a.host == b.host
        case .upstreamPort: a.port == b.port
        case .upstreamTLS: a.tls == b.tls
        case .upstreamVerifyCertificate: a.verifyCertificate == b.verifyCertificate
        case .upstreamCAFile: a.caFile == b.caFile
        case .upstreamUsername: a.username == b.username
        case .upstreamPassword: a.password == b.password
        case .upstreamPasswordFile: a.passwordFile == b.passwordFile
        case .upstreamConnections: a.connections == b.connections
        case .upstreamConnectTimeout: a.connectTimeout == b.connectTimeout
        case .upstreamCommandTimeout: a.commandTimeout == b.commandTimeout
        case .upstreamDataTimeout: a.dataTimeout == b.dataTimeout
        case .upstreamIdleTimeout: a.idleTimeout == b.idleTimeout
        default: true
        }
    }

    /// The files these settings are read from besides the config file — password files, CA bundles, the inbound
    /// certificate and key, the users file — which a reload must notice changing even when the config file does not.
    public var referencedFiles: [String] {
        ([upstream] + fallbackUpstreams).map(\.passwordFile).filter { !$0.isEmpty } + contentFiles.map(\.path)
    }

    /// The files whose contents are read when they are used and are not part of the settings, with the key that
    /// names each, those set: every upstream's `ca_file` (`upstream.ca_file`, `upstreams[1].ca_file`), then
    /// `inbound.tls.certificate_file`, `inbound.tls.key_file` and `inbound.auth.users_file`. Unlike a password
    /// file's, their new contents show only in the file, so a changed stamp means a reload must read them again.
    public var contentFiles: [(key: String, path: String)] {
        let certificateAuthorities = ([upstream] + fallbackUpstreams).enumerated().compactMap { index, upstream in
            upstream.caFile.isEmpty ? nil
                : (key: index == 0 ? SettingKey.upstreamCAFile.path : SettingKey.upstreamCAFile.listName(index), path: upstream.caFile)
        }
        let inboundFiles = [
            (key: SettingKey.inboundTLSCertificateFile.path, path: inbound.tls.certificateFile),
            (key: SettingKey.inboundTLSKeyFile.path, path: inbound.tls.keyFile),
            (key: SettingKey.inboundAuthUsersFile.path, path: inbound.auth.usersFile),
        ].filter { !$0.path.isEmpty }
        return certificateAuthorities + inboundFiles
    }
}

extension RelaySettings {
    /// Rules that involve more than one key; each value was already checked on its own while decoding.
    func validateCombinations(_ r: SettingsReader) throws(ConfigurationError) {
        if retry.first > retry.max {
            let key: SettingKey = r.source(of: .retryFirst) != nil || r.source(of: .retryMax) == nil ? .retryFirst : .retryMax
            throw ConfigurationError(
                file: r.source(of: key), key: key.path,
                problem: "retry.first (\(retry.first.configText)) is longer than retry.max (\(retry.max.configText))")
        }
        try inbound.tls.validate(r)
        // An implicit-TLS listener has nothing to offer a client without a certificate.
        if !listen.smtps.isEmpty && !inbound.tls.isEnabled {
            throw r.error(.listenSMTPS, "needs \(SettingKey.inboundTLSCertificateFile.path) and \(SettingKey.inboundTLSKeyFile.path)")
        }
        try inbound.auth.validate(r, tlsEnabled: inbound.tls.isEnabled)
        try upstream.validate(r)
        for (offset, fallback) in fallbackUpstreams.enumerated() {
            try fallback.validate(r.reading(upstream: offset + 1))
        }
        // Without a primary, mail goes to the outbox and the fallbacks would be silently unused.
        if !fallbackUpstreams.isEmpty && upstream.host.isEmpty {
            let fallback = r.reading(upstream: 1)
            throw ConfigurationError(
                file: r.source(of: .upstreamHost) ?? fallback.source(of: .upstreamHost), key: r.name(of: .upstreamHost),
                problem: "is empty, but \(fallback.name(of: .upstreamHost)) is set; fallbacks need a primary upstream")
        }
    }
}

extension InboundTLSSettings {
    /// Certificate and key go together, exist, and are files; what is in them is relayd's to judge when it builds
    /// the TLS context, which names the PEM problem.
    func validate(_ r: SettingsReader) throws(ConfigurationError) {
        let certificateKey = SettingKey.inboundTLSCertificateFile, keyKey = SettingKey.inboundTLSKeyFile
        if certificateFile.isEmpty != keyFile.isEmpty {
            let (missing, present) = certificateFile.isEmpty ? (certificateKey, keyKey) : (keyKey, certificateKey)
            // The missing key usually has no source of its own; the one that is set shows where to fix it.
            throw ConfigurationError(
                file: r.source(of: missing) ?? r.source(of: present), key: missing.path,
                problem: "must be set together with \(present.path)")
        }
        for (key, path) in [(certificateKey, certificateFile), (keyKey, keyFile)] where !path.isEmpty {
            // Checked now so a typo fails at start-up (or refuses the reload), not at the first STARTTLS.
            if let failure = FileBytes.unreadableRegularFileReason(path: path) {
                throw r.error(key, "cannot read \"\(path)\": \(failure.reason)")
            }
        }
        if required && !isEnabled {
            throw r.error(.inboundTLSRequired, "needs \(certificateKey.path) and \(keyKey.path)")
        }
    }
}

extension InboundAuthSettings {
    /// The users file exists and is a file, and passwords cannot cross the network in the clear; what is in the
    /// file is relayd's to judge, as it reads it again on every change.
    func validate(_ r: SettingsReader, tlsEnabled: Bool) throws(ConfigurationError) {
        // Checked now so a typo fails at start-up (or refuses the reload), not at the first AUTH.
        if isEnabled, let failure = FileBytes.unreadableRegularFileReason(path: usersFile) {
            throw r.error(.inboundAuthUsersFile, "cannot read \"\(usersFile)\": \(failure.reason)")
        }
        // Without users no client could ever send MAIL.
        if required && !isEnabled {
            throw r.error(.inboundAuthRequired, "needs \(SettingKey.inboundAuthUsersFile.path)")
        }
        if isEnabled && !tlsEnabled && !allowPlaintextLoopback {
            throw r.error(.inboundAuthUsersFile, "AUTH is offered only over TLS: set \(SettingKey.inboundTLSCertificateFile.path) "
                + "and key_file (or \(SettingKey.inboundAuthAllowPlaintextLoopback.path) for clients on this machine)")
        }
    }
}

extension UpstreamSettings {
    /// The rules within one upstream; `r` addresses this upstream, so messages name its keys.
    func validate(_ r: SettingsReader) throws(ConfigurationError) {
        let hasPassword = !password.isEmpty
        let hasPasswordFile = !passwordFile.isEmpty
        if hasPassword && hasPasswordFile {
            throw r.error(.upstreamPasswordFile,
                          "is set together with \(r.name(of: .upstreamPassword)); set only one (prefer password_file)")
        }
        if !username.isEmpty && !hasPassword && !hasPasswordFile {
            throw r.error(.upstreamUsername,
                          "is set but neither \(r.name(of: .upstreamPassword)) nor \(r.name(of: .upstreamPasswordFile)) is")
        }
        if username.isEmpty && (hasPassword || hasPasswordFile) {
            let key: SettingKey = hasPassword ? .upstreamPassword : .upstreamPasswordFile
            throw r.error(key, "is set but \(r.name(of: .upstreamUsername)) is empty")
        }
        // Checked now so a typo fails at start-up, not at the first delivery hours later.
        if !caFile.isEmpty, let failure = FileBytes.unreadableReason(path: caFile) {
            throw r.error(.upstreamCAFile, "cannot read \"\(caFile)\": \(failure.reason)")
        }
    }

    /// Replaces `password` by the content of `passwordFile`, when one is named; `r` addresses this upstream.
    mutating func readPasswordFile(_ r: SettingsReader) throws(ConfigurationError) {
        guard !passwordFile.isEmpty else { return }
        password = try Self.readPassword(fromFile: passwordFile, reader: r)
    }

    /// The password stored in `path`, as Kubernetes Secrets and Docker secrets deliver it.
    private static func readPassword(fromFile path: String, reader r: SettingsReader) throws(ConfigurationError) -> String {
        let bytes: [UInt8]
        switch FileBytes.contents(atPath: path) {
        case .success(let content): bytes = content
        case .failure(let failure): throw r.error(.upstreamPasswordFile, "cannot read \"\(path)\": \(failure.reason)")
        }
        guard var password = String(validating: bytes, as: UTF8.self) else {
            throw r.error(.upstreamPasswordFile, "\"\(path)\" is not UTF-8 text")
        }
        // `echo key > file` and most editors add a final newline that is not part of the secret.
        while password.last == "\n" || password.last == "\r\n" || password.last == "\r" { password.removeLast() }
        guard !password.isEmpty else { throw r.error(.upstreamPasswordFile, "\"\(path)\" is empty") }
        return password
    }
}

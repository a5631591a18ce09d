extension RelaySettings {
    /// Rules that involve more than one key; each value was already checked on its own while decoding.
    func validateCombinations(_ r: SettingsReader) throws(ConfigurationError) {
        if retry.first > retry.max {
            let key: SettingKey = r.source(of: .retryFirst) != nil || r.source(of: .retryMax) == nil ? .retryFirst : .retryMax
            throw ConfigurationError(
                file: r.source(of: key), key: key.path,
                problem: "retry.first (\(retry.first.configText)) is longer than retry.max (\(retry.max.configText))")
        }
        let hasPassword = !upstream.password.isEmpty
        let hasPasswordFile = !upstream.passwordFile.isEmpty
        if hasPassword && hasPasswordFile {
            throw r.error(.upstreamPasswordFile, "is set together with upstream.password; set only one (prefer password_file)")
        }
        if !upstream.username.isEmpty && !hasPassword && !hasPasswordFile {
            throw r.error(.upstreamUsername, "is set but neither upstream.password nor upstream.password_file is")
        }
        if upstream.username.isEmpty && (hasPassword || hasPasswordFile) {
            let key: SettingKey = hasPassword ? .upstreamPassword : .upstreamPasswordFile
            throw r.error(key, "is set but upstream.username is empty")
        }
        // Checked now so a typo fails at start-up, not at the first delivery hours later.
        if !upstream.caFile.isEmpty, let failure = FileBytes.unreadableReason(path: upstream.caFile) {
            throw r.error(.upstreamCAFile, "cannot read \"\(upstream.caFile)\": \(failure.reason)")
        }
    }
}

extension UpstreamSettings {
    /// The password stored in `path`, as Kubernetes Secrets and Docker secrets deliver it.
    static func readPassword(fromFile path: String, reader r: SettingsReader) throws(ConfigurationError) -> String {
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

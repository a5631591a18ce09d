import Configuration

extension RelaySettings {
    /// Defaults < YAML file (if configFile non-nil) < RELAY_* environment variables; secrets from *_file keys.
    public static func load(
        configFile: String?, environment: [String: String], defaultHostname: String
    ) throws(ConfigurationError) -> RelaySettings {
        let variables = environment.filter { $0.key.hasPrefix("RELAY_") }
        try rejectUnknownVariables(variables)
        let file = try configFile.map { path throws(ConfigurationError) in try ConfigFile.load(path: path) }

        // The environment provider sees the key `relay.upstream.port` and looks up RELAY_UPSTREAM_PORT
        // (`relay.upstreams.1.port`: RELAY_UPSTREAMS_1_PORT); passwords are masked in its access reports.
        let secretVariables = Set(variables.keys.filter { name in
            SettingKey.allCases.contains { $0.isSecret && $0.environmentName == name }
                || SettingKey.fallbackVariable(named: name)?.key.isSecret == true
        })
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: variables, secretsSpecifier: .specific(secretVariables))
                .prefixKeys(with: "relay")
        ]
        if let provider = file?.provider { providers.append(provider) }
        let reader = SettingsReader(config: ConfigReader(providers: providers), environment: variables, file: file)

        var settings = try decode(reader, defaults: defaults(hostname: defaultHostname))
        try settings.validateCombinations(reader)
        try settings.upstream.readPasswordFile(reader)
        for index in settings.fallbackUpstreams.indices {
            try settings.fallbackUpstreams[index].readPasswordFile(reader.reading(upstream: index + 1))
        }
        return settings
    }

    /// A mistyped variable would otherwise be ignored and the default used without a word.
    private static func rejectUnknownVariables(_ variables: [String: String]) throws(ConfigurationError) {
        let known = SettingKey.allCases.map(\.environmentName)
        for name in variables.keys.sorted()
        where !known.contains(name) && !SettingKey.nonConfigEnvironmentNames.contains(name)
            && SettingKey.fallbackVariable(named: name) == nil {
            throw ConfigurationError(
                file: ConfigurationError.environmentSource(name), key: "",
                problem: "is not a configuration variable" + unknownVariableHint(name, known: known))
        }
    }

    /// ` (did you mean …?)` for a mistyped variable, pointing `RELAY_UPSTREAMS_0_*` at the primary's variables.
    private static func unknownVariableHint(_ name: String, known: [String]) -> String {
        let parts = SettingKey.upstreamListVariableParts(name)
        if let parts, parts.index == 0, let key = SettingKey(upstreamField: parts.field) {
            return " (upstreams[0] is the primary upstream: use \(key.environmentName))"
        }
        // Offer the fallback variables of the index the name seems to mean (or of the first fallback).
        let index = max(parts?.index ?? 1, 1)
        return KeySuggestion.hint(for: name, among: known + SettingKey.upstreamKeys.map { $0.fallbackEnvironmentName(index) })
    }
}

import Configuration

extension RelaySettings {
    /// Defaults < YAML file (if configFile non-nil) < RELAY_* environment variables; secrets from *_file keys.
    public static func load(
        configFile: String?, environment: [String: String], defaultHostname: String
    ) throws(ConfigurationError) -> RelaySettings {
        let variables = environment.filter { $0.key.hasPrefix("RELAY_") }
        try rejectUnknownVariables(variables)
        let file = try configFile.map { path throws(ConfigurationError) in try ConfigFile.load(path: path) }

        // The environment provider sees the key `relay.upstream.port` and looks up RELAY_UPSTREAM_PORT.
        let secretVariables = Set(SettingKey.allCases.filter(\.isSecret).map(\.environmentName))
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: variables, secretsSpecifier: .specific(secretVariables))
                .prefixKeys(with: "relay")
        ]
        if let provider = file?.provider { providers.append(provider) }
        let reader = SettingsReader(config: ConfigReader(providers: providers), environment: variables, file: file)

        var settings = try decode(reader, defaults: defaults(hostname: defaultHostname))
        try settings.validateCombinations(reader)
        if !settings.upstream.passwordFile.isEmpty {
            settings.upstream.password = try UpstreamSettings.readPassword(
                fromFile: settings.upstream.passwordFile, reader: reader)
        }
        return settings
    }

    /// A mistyped variable would otherwise be ignored and the default used without a word.
    private static func rejectUnknownVariables(_ variables: [String: String]) throws(ConfigurationError) {
        let known = SettingKey.allCases.map(\.environmentName)
        for name in variables.keys.sorted()
        where !known.contains(name) && !SettingKey.nonConfigEnvironmentNames.contains(name) {
            throw ConfigurationError(
                file: ConfigurationError.environmentSource(name), key: "",
                problem: "is not a configuration variable" + KeySuggestion.hint(for: name, among: known))
        }
    }
}

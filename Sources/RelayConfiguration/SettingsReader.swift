import Configuration
import FoundationEssentials
import Transport

/// Reads raw values through swift-configuration and turns them into typed values or operator-worded errors.
///
/// Everything is fetched as text (or a list of text) and parsed here: the reader's typed getters return nil on a
/// malformed value, which would silently fall back to the default instead of telling the operator.
struct SettingsReader {
    let config: ConfigReader
    let environment: [String: String]
    let file: ConfigFile?
    /// Which upstream the `upstream.*` keys address: 0 the primary, n ≥ 1 the fallback `upstreams[n]`.
    private(set) var upstreamIndex = 0

    init(config: ConfigReader, environment: [String: String], file: ConfigFile?) {
        self.config = config
        self.environment = environment
        self.file = file
    }

    /// The same reader with the `upstream.*` keys addressing list entry `index`, so one decoder serves every upstream.
    func reading(upstream index: Int) -> SettingsReader {
        var reader = self
        reader.upstreamIndex = index
        return reader
    }

    private func addressesFallback(_ key: SettingKey) -> Bool {
        upstreamIndex > 0 && key.upstreamField != nil
    }

    /// Where swift-configuration looks `key` up, in the file and (prefixed with `relay.`) in the environment.
    private func lookupPath(_ key: SettingKey) -> String {
        addressesFallback(key) ? key.fallbackPath(upstreamIndex) : key.path
    }

    func environmentName(of key: SettingKey) -> String {
        addressesFallback(key) ? key.fallbackEnvironmentName(upstreamIndex) : key.environmentName
    }

    /// The key as the layer setting it spells it: `upstreams[0].port` for a primary the file lists, `upstream.port`
    /// when it is written as `upstream:`, set by `RELAY_UPSTREAM_PORT` or left at its default.
    func name(of key: SettingKey) -> String {
        if addressesFallback(key) { return key.listName(upstreamIndex) }
        let fromList = key.upstreamField != nil && (file?.upstreamListCount ?? 0) > 0
            && environment[key.environmentName] == nil
        return fromList ? key.listName(0) : key.path
    }

    /// Where `key`'s effective value comes from, for error messages; nil when it is the built-in default.
    func source(of key: SettingKey) -> String? {
        let variable = environmentName(of: key)
        if environment[variable] != nil { return ConfigurationError.environmentSource(variable) }
        if let file, file.paths.contains(lookupPath(key)) { return file.path }
        return nil
    }

    func error(_ key: SettingKey, _ problem: String) -> ConfigurationError {
        ConfigurationError(file: source(of: key), key: name(of: key), problem: problem)
    }

    /// The raw text, or nil when neither the environment nor the file sets the key.
    func text(_ key: SettingKey) -> String? {
        config.string(forKey: ConfigKey(lookupPath(key)), isSecret: key.isSecret)
    }

    func list(_ key: SettingKey) -> [String]? {
        guard let items = config.stringArray(forKey: ConfigKey(lookupPath(key))) else { return nil }
        // `RELAY_INBOUND_ALLOWED_NETWORKS=""` splits into one empty item; it means an empty list.
        return items == [""] ? [] : items
    }

    func string(_ key: SettingKey, default value: String) -> String {
        text(key) ?? value
    }

    /// A file or socket path; empty would make relayd use the working directory by accident.
    func path(_ key: SettingKey, default value: String) throws(ConfigurationError) -> String {
        let path = string(key, default: value)
        guard !path.isEmpty else { throw error(key, "must not be empty") }
        return path
    }

    /// Reads `key` and converts it with `parse`; `expected` completes "… is not …" when `parse` returns nil.
    func value<T>(_ key: SettingKey, default value: T, expected: String, _ parse: (String) -> T?) throws(ConfigurationError) -> T {
        guard let raw = text(key) else { return value }
        guard let parsed = parse(raw) else { throw error(key, "\(Self.shown(raw)) is not \(expected)") }
        return parsed
    }

    func integer(_ key: SettingKey, default value: Int, minimum: Int) throws(ConfigurationError) -> Int {
        let number = try self.value(key, default: value, expected: "a whole number") { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard number >= minimum else { throw error(key, "\(number) is too small (at least \(minimum))") }
        return number
    }

    func decimal(_ key: SettingKey, default value: Double) throws(ConfigurationError) -> Double {
        try self.value(key, default: value, expected: "a number") { text in
            Double(text.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
        }
    }

    func size(_ key: SettingKey, default value: Int) throws(ConfigurationError) -> Int {
        let bytes = try self.value(key, default: value, expected: "a size (use e.g. 10MiB)") { ByteSize(parsing: $0)?.bytes }
        guard bytes > 0 else { throw error(key, "must be larger than 0") }
        return bytes
    }

    /// A duration; longer than zero unless `allowsZero` (zero then means "off").
    func duration(_ key: SettingKey, default value: Duration, allowsZero: Bool = false) throws(ConfigurationError) -> Duration {
        let duration = try self.value(key, default: value, expected: "a duration (use e.g. 90s, 5m, 1h, 5d)") {
            Duration(configText: $0)
        }
        guard duration > .zero || (allowsZero && duration == .zero) else {
            throw error(key, allowsZero ? "must not be negative" : "must be longer than 0s")
        }
        return duration
    }

    func flag(_ key: SettingKey, default value: Bool) throws(ConfigurationError) -> Bool {
        try self.value(key, default: value, expected: "true or false") { text in
            switch text.trimmingCharacters(in: .whitespaces).lowercased() {
            case "true", "yes", "on", "1": true
            case "false", "no", "off", "0": false
            default: nil
            }
        }
    }

    func choice<T: RawRepresentable<String> & CaseIterable>(_ key: SettingKey, default value: T) throws(ConfigurationError) -> T {
        let names = T.allCases.map(\.rawValue).joined(separator: ", ")
        return try self.value(key, default: value, expected: "one of \(names)") { text in
            T(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased())
        }
    }

    func address(_ key: SettingKey, text raw: String) throws(ConfigurationError) -> ListenAddress {
        guard let address = ListenAddress(raw) else {
            throw error(key, "\(Self.shown(raw)) is not host:port (write IPv6 as [::]:2525)")
        }
        return address
    }

    /// Numbers read better bare (`70000 is not a port`), anything else quoted so spaces and empties show.
    static func shown(_ raw: String) -> String {
        !raw.isEmpty && raw.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) ? raw : "\"\(raw)\""
    }
}

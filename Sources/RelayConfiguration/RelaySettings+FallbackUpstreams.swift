extension RelaySettings {
    /// `upstreams[1...]`: the file's entries after the primary, then those the environment adds.
    static func decodeFallbackUpstreams(
        _ r: SettingsReader, defaults d: UpstreamSettings
    ) throws(ConfigurationError) -> [UpstreamSettings] {
        let count = try fallbackCount(r)
        var fallbacks: [UpstreamSettings] = []
        for index in 1..<count + 1 {
            // Keys an entry leaves out take the built-in defaults, not the primary's values: a fallback is
            // usually another provider, and inheriting the primary's login would send it to the wrong one.
            let entry = r.reading(upstream: index)
            let upstream = try decodeUpstream(entry, defaults: d)
            // An empty host would quietly mean "deliver to the outbox" in the middle of the list.
            guard !upstream.host.isEmpty else {
                // Left out rather than set empty: then the entry is in the file, since variables only add entries with a host.
                throw ConfigurationError(
                    file: entry.source(of: .upstreamHost) ?? r.file?.path, key: entry.name(of: .upstreamHost),
                    problem: "must not be empty: a fallback needs a host")
            }
            fallbacks.append(upstream)
        }
        return fallbacks
    }

    /// How many fallbacks there are: the file's, extended by `RELAY_UPSTREAMS_<n>_HOST` for the next n.
    ///
    /// The environment may add entries, so a container needs no file, but only with a host (other variables for an
    /// entry that does not exist are more likely a miscounted index than a host-less upstream) and only without
    /// gaps (`RELAY_UPSTREAMS_3_*` must not quietly become the second fallback).
    private static func fallbackCount(_ r: SettingsReader) throws(ConfigurationError) -> Int {
        var count = max((r.file?.upstreamListCount ?? 0) - 1, 0)
        let variables = r.environment.keys.compactMap { name in
            SettingKey.fallbackVariable(named: name).map { (name: name, index: $0.index, key: $0.key) }
        }
        for (index, group) in Dictionary(grouping: variables, by: \.index).sorted(by: { $0.key < $1.key }) {
            guard index > count else { continue }
            let host = SettingKey.upstreamHost.fallbackEnvironmentName(index)
            guard r.environment[host] != nil else {
                let first = group.sorted { $0.name < $1.name }[0]
                throw ConfigurationError(
                    file: ConfigurationError.environmentSource(first.name), key: first.key.listName(index),
                    problem: "there is no upstreams[\(index)] to override; set \(host) to add it as a fallback")
            }
            guard index == count + 1 else {
                throw ConfigurationError(
                    file: ConfigurationError.environmentSource(host), key: SettingKey.upstreamHost.listName(index),
                    problem: "adds upstreams[\(index)], but there is no upstreams[\(count + 1)]; "
                        + "number fallbacks from 1 without gaps")
            }
            count = index
        }
        return count
    }
}

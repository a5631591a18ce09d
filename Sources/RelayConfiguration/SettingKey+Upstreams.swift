/// How the `upstream.*` keys are addressed inside the `upstreams:` list.
///
/// Entry 0 is the primary and is read through the `upstream.*` keys themselves (the file serves it there, and
/// `RELAY_UPSTREAM_*` override it), so that the primary has one set of keys whichever form the file uses. Only
/// the fallbacks, entries n ≥ 1, get keys of their own: `upstreams.n.host` where swift-configuration looks it up
/// (from which its environment provider derives `RELAY_UPSTREAMS_n_HOST`), `upstreams[n].host` in messages.
extension SettingKey {
    /// The top-level key of the list form.
    static let upstreamList = "upstreams"

    private static let upstreamPrefix = "upstream."

    /// `host` for `upstream.host`; nil for keys outside `upstream:`.
    var upstreamField: String? {
        path.hasPrefix(Self.upstreamPrefix) ? String(path.dropFirst(Self.upstreamPrefix.count)) : nil
    }

    /// The `upstream.*` key a list entry's field name stands for (`host` → `upstream.host`).
    init?(upstreamField field: String) {
        self.init(rawValue: Self.upstreamPrefix + field)
    }

    /// The keys every upstream has, and so every entry of `upstreams:` may set.
    static let upstreamKeys = allCases.filter { $0.upstreamField != nil }

    /// `upstreams.2.host`: the lookup path of fallback `index`'s value for this `upstream.*` key.
    func fallbackPath(_ index: Int) -> String {
        "\(Self.upstreamList).\(index).\(upstreamField ?? path)"
    }

    /// `upstreams[2].host`: this `upstream.*` key in list entry `index`, as operators read it.
    func listName(_ index: Int) -> String {
        "\(Self.upstreamList)[\(index)].\(upstreamField ?? path)"
    }

    /// `RELAY_UPSTREAMS_2_HOST`: the variable for this `upstream.*` key of fallback `index`.
    func fallbackEnvironmentName(_ index: Int) -> String {
        "RELAY_UPSTREAMS_\(index)_" + (upstreamField ?? path).uppercased()
    }

    /// The fallback index and key a `RELAY_UPSTREAMS_<n>_<KEY>` variable sets, or nil when `name` is not one.
    ///
    /// Only the spelling `fallbackEnvironmentName` produces is accepted (n ≥ 1, no leading zeros), so every
    /// value has exactly one variable; `RELAY_UPSTREAMS_0_*` would be a second name for `RELAY_UPSTREAM_*`.
    static func fallbackVariable(named name: String) -> (index: Int, key: SettingKey)? {
        guard let (index, field) = upstreamListVariableParts(name), index >= 1,
              let key = SettingKey(upstreamField: field), key.fallbackEnvironmentName(index) == name
        else { return nil }
        return (index, key)
    }

    /// `(2, "host")` for `RELAY_UPSTREAMS_2_HOST`, whether or not the index and key exist; for hints.
    static func upstreamListVariableParts(_ name: String) -> (index: Int, field: String)? {
        let prefix = "RELAY_UPSTREAMS_"
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard let index = Int(digits), rest.dropFirst(digits.count).first == "_" else { return nil }
        return (index, rest.dropFirst(digits.count + 1).lowercased())
    }
}

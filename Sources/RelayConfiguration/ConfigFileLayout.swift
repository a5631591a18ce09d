import Configuration
import Yams

/// Checks a config file's keys and shapes before any value is read, so a typo is an error rather than a
/// silently ignored line (swift-configuration only answers the keys it is asked for), and collects the values.
///
/// The values are served from here rather than through swift-configuration's `YAMLSnapshot`, which rejects a
/// list of mappings (`upstreams:`). Each value is keyed by its dotted path in the lookup space the environment
/// shares (see `SettingKey+Upstreams`): the primary of an `upstreams:` list under `upstream.*`, fallback n under
/// `upstreams.n.*`.
enum ConfigFileLayout {
    /// What a file sets.
    struct Contents {
        /// Every value, by its dotted lookup path (`upstream.port`, `upstreams.1.port`).
        var values: [String: ConfigValue] = [:]
        /// Entries in the `upstreams:` list; 0 when the file uses `upstream:` or neither.
        var upstreamListCount = 0
    }

    /// The document's values; throws on unknown keys and wrong shapes (Yams rejects duplicates).
    static func contents(of root: Node?, file: String) throws(ConfigurationError) -> Contents {
        // An empty (or all-comment) file means "all defaults".
        guard let root else { return Contents() }
        guard case .mapping(let mapping) = root else {
            throw ConfigurationError(
                file: file, key: "", problem: "the top level must be a mapping of keys, e.g. `hostname: relay.example.com`")
        }
        var walk = Walk(file: file)
        try walk.rejectBothUpstreamForms(in: mapping)
        for (keyNode, value) in mapping {
            let name = try walk.name(of: keyNode, in: "")
            if name == SettingKey.upstreamList {
                try walk.upstreamList(value)
            } else {
                try walk.entry(value, at: name)
            }
        }
        return walk.contents
    }

    /// Sorted so that a hint between two equally close names is the same on every run.
    private static let knownNames = SettingKey.allCases.map(\.path) + SettingKey.sections.sorted() + [SettingKey.upstreamList]

    /// The state of one pass over a document.
    private struct Walk {
        let file: String
        var contents = Contents()

        func fail(_ key: String, _ problem: String) -> ConfigurationError {
            ConfigurationError(file: file, key: key, problem: problem)
        }

        func name(of keyNode: Node, in parent: String) throws(ConfigurationError) -> String {
            guard case .scalar(let name) = keyNode else { throw fail(parent, "keys must be plain words") }
            return name.string
        }

        /// A section's keys, down to any depth (`inbound:` holds `tls:`), or a single key's value; `path` is the
        /// dotted name the value sits at.
        mutating func entry(_ value: Node, at path: String) throws(ConfigurationError) {
            guard SettingKey.sections.contains(path) else {
                try add(value, named: path, key: SettingKey(rawValue: path), among: knownNames, at: \.path)
                return
            }
            // A section with every key commented out (`upstream:` alone) is an empty mapping, not a mistake.
            if isNull(value) { return }
            guard case .mapping(let inner) = value else {
                let written = path.split(separator: ".").last.map(String.init) ?? path
                throw fail(path, "must be a mapping of keys (e.g. `\(written): { key: value }`), not a single value")
            }
            for (innerKey, innerValue) in inner {
                try entry(innerValue, at: "\(path).\(try name(of: innerKey, in: path))")
            }
        }

        /// Records `value` under `path(key)` after checking its shape; `key` is nil when `name` is not a known key.
        mutating func add(
            _ value: Node, named name: String, key: SettingKey?, among candidates: [String], at path: (SettingKey) -> String
        ) throws(ConfigurationError) {
            guard let key else { throw fail(name, "is not a known key" + KeySuggestion.hint(for: name, among: candidates)) }
            if let problem = shapeProblem(of: value, for: key) { throw fail(name, problem) }
            let content: ConfigContent = switch value {
            case .sequence(let items): .stringArray(items.compactMap(\.scalar).map(\.string))
            default: .string(value.scalar?.string ?? "")
            }
            contents.values[path(key)] = ConfigValue(content, isSecret: key.isSecret)
        }

        /// Two ways of naming the primary would leave it unclear which one counts.
        func rejectBothUpstreamForms(in mapping: Node.Mapping) throws(ConfigurationError) {
            func value(of name: String) -> Node? { mapping.first { $0.key.scalar?.string == name }?.value }
            guard let single = value(of: "upstream"), let list = value(of: SettingKey.upstreamList),
                  !isNull(single), !isNull(list)
            else { return }
            throw fail(SettingKey.upstreamList, "is set together with upstream; use `upstream:` for one smarthost or "
                + "`upstreams:` for a primary followed by fallbacks, not both")
        }

        /// `upstreams:`, a list of mappings holding the `upstream.*` keys.
        mutating func upstreamList(_ value: Node) throws(ConfigurationError) {
            let listKey = SettingKey.upstreamList
            if isNull(value) { return }
            guard case .sequence(let entries) = value else {
                throw fail(listKey, "must be a list of upstream mappings, e.g. `upstreams: [{ host: a.example.com }, "
                    + "{ host: b.example.com }]` (for a single upstream use `upstream:`)")
            }
            guard !entries.isEmpty else {
                throw fail(listKey, "must list at least one upstream, e.g. `- { host: smtp.example.com }`")
            }
            for (index, entry) in entries.enumerated() {
                guard case .mapping(let keys) = entry else {
                    throw fail("\(listKey)[\(index)]", "must be a mapping of upstream keys, e.g. `- { host: smtp.example.com }`")
                }
                let candidates = SettingKey.upstreamKeys.map { $0.listName(index) }
                for (keyNode, keyValue) in keys {
                    let field = try name(of: keyNode, in: "\(listKey)[\(index)]")
                    try add(keyValue, named: "\(listKey)[\(index)].\(field)", key: SettingKey(upstreamField: field),
                            among: candidates, at: { index == 0 ? $0.path : $0.fallbackPath(index) })
                }
            }
            contents.upstreamListCount = entries.count
        }
    }

    /// Why `value` cannot hold `key`, or nil when the shape fits.
    private static func shapeProblem(of value: Node, for key: SettingKey) -> String? {
        switch value {
        case .scalar(let scalar) where !key.isList:
            // `~`/`null` would reach the reader as the text "null"; an empty value (`host:`) reads as "".
            let isExplicitNull = isNull(value) && !scalar.string.isEmpty
            return isExplicitNull ? "has no value; write \"\" for empty or remove the line for the default" : nil
        case .sequence(let sequence) where key.isList:
            let allScalars = sequence.allSatisfy { if case .scalar = $0 { true } else { false } }
            return allScalars ? nil : "must be a list of plain values, e.g. [\"a\", \"b\"]"
        case .scalar, .mapping, .sequence, .alias:
            return key.isList ? "must be a list, e.g. [\"a\", \"b\"]" : "must be a single value, not a list or mapping"
        }
    }

    /// Whether YAML resolves the node to null: empty, `~` or `null`.
    private static func isNull(_ node: Node) -> Bool {
        if case .scalar = node { node.tag.rawValue == Tag.Name.null.rawValue } else { false }
    }
}

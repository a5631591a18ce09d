import Yams

/// Checks a config file's keys and shapes before any value is read, so a typo is an error rather than a
/// silently ignored line (swift-configuration only answers the keys it is asked for).
enum ConfigFileLayout {
    /// The known keys present in the document; throws on unknown keys and wrong shapes (Yams rejects duplicates).
    static func keys(in root: Node?, file: String) throws(ConfigurationError) -> Set<SettingKey> {
        // An empty (or all-comment) file means "all defaults".
        guard let root else { return [] }
        guard case .mapping(let mapping) = root else {
            throw ConfigurationError(
                file: file, key: "", problem: "the top level must be a mapping of keys, e.g. `hostname: relay.example.com`")
        }
        var found: Set<SettingKey> = []
        try walk(mapping, prefix: nil, file: file, into: &found)
        return found
    }

    private static let knownNames = SettingKey.allCases.map(\.path) + SettingKey.sections

    private static func walk(
        _ mapping: Node.Mapping, prefix: String?, file: String, into found: inout Set<SettingKey>
    ) throws(ConfigurationError) {
        for (keyNode, value) in mapping {
            guard case .scalar(let name) = keyNode else {
                throw ConfigurationError(file: file, key: prefix ?? "", problem: "keys must be plain words")
            }
            let path = prefix.map { "\($0).\(name.string)" } ?? name.string
            func fail(_ problem: String) -> ConfigurationError {
                ConfigurationError(file: file, key: path, problem: problem)
            }
            if prefix == nil, SettingKey.sections.contains(path) {
                // A section with every key commented out (`upstream:` alone) is an empty mapping, not a mistake.
                if case .scalar = value, isNull(value) { continue }
                guard case .mapping(let inner) = value else {
                    throw fail("must be a mapping of keys (e.g. `\(path): { key: value }`), not a single value")
                }
                try walk(inner, prefix: path, file: file, into: &found)
                continue
            }
            guard let key = SettingKey(rawValue: path) else {
                throw fail("is not a known key" + KeySuggestion.hint(for: path, among: knownNames))
            }
            if let problem = shapeProblem(of: value, for: key) { throw fail(problem) }
            found.insert(key)
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
        node.tag.rawValue == Tag.Name.null.rawValue
    }
}

import Configuration
import Yams

/// A YAML config file read once: the values it sets, and a swift-configuration provider serving them.
struct ConfigFile {
    let path: String
    /// The dotted lookup paths the file sets (`upstream.port`, `upstreams.1.port`), to name where a value came from.
    let paths: Set<String>
    /// Entries in the file's `upstreams:` list; 0 when it uses `upstream:` or neither.
    let upstreamListCount: Int
    let provider: InMemoryProvider

    /// Reads, parses and checks the file at `path`; a missing file is an error, not "use defaults".
    static func load(path: String) throws(ConfigurationError) -> ConfigFile {
        func fail(_ problem: String) -> ConfigurationError {
            ConfigurationError(file: path, key: "", problem: problem)
        }
        let bytes: [UInt8]
        switch FileBytes.contents(atPath: path) {
        case .success(let content): bytes = content
        case .failure(let failure): throw fail("cannot read the configuration file: \(failure.reason)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw fail("is not UTF-8 text") }
        let root: Node?
        do {
            root = try Parser(yaml: text).singleRoot()
        } catch let error as YamlError {
            throw fail("is not valid YAML: \(syntaxProblem(error))")
        } catch {
            throw fail("is not valid YAML: \(error)")
        }
        let contents = try ConfigFileLayout.contents(of: root, file: path)
        let values = contents.values.map { key, value in (AbsoluteConfigKey(ConfigKey(key)), value) }
        return ConfigFile(
            path: path, paths: Set(contents.values.keys), upstreamListCount: contents.upstreamListCount,
            provider: InMemoryProvider(name: "YAML file \(path)", values: Dictionary(uniqueKeysWithValues: values)))
    }

    /// One line with position and reason; Yams' own description adds a multi-line snippet that breaks log lines.
    private static func syntaxProblem(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let during = context.map { "\($0.text) " } ?? ""
            return "line \(mark.line), column \(mark.column): \(during)\(problem)"
        case .duplicatedKeysInMapping(let duplicates, _):
            // Yams' mark here is the start of the enclosing mapping, which would point at the wrong line.
            return "\(duplicates.sorted().joined(separator: ", ")) appears more than once in the same mapping"
        default:
            return String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        }
    }
}

/// A configuration problem, worded for an operator: names the file (or environment variable), the key, and what is wrong.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where the offending value came from: a file path, `environment variable RELAY_…`, or nil for a built-in default.
    public var file: String?
    /// The dotted key, e.g. `inbound.max_message_size`; empty when the problem is the file as a whole.
    public var key: String
    /// One sentence saying what is wrong and, where it helps, what would be right.
    public var problem: String

    public init(file: String?, key: String, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    /// `/etc/relay/relay.yaml: inbound.max_message_size: "10 potatoes" is not a size (use e.g. 10MiB)`
    public var description: String {
        [file, key.isEmpty ? nil : key, problem].compactMap { $0 }.joined(separator: ": ")
    }
}

extension ConfigurationError {
    /// The source label used for values that came from the environment.
    static func environmentSource(_ name: String) -> String {
        "environment variable \(name)"
    }
}

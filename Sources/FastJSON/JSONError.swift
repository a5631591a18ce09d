/// Why a JSON text could not be read, in one sentence: where (byte offset or key path) and what was wrong.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    /// A member is missing: `"ids" is missing`.
    public static func missing(_ key: String) -> JSONError { JSONError("\"\(key)\" is missing") }

    /// A member has the wrong kind: `"ids" must be an array, not a string`.
    public static func wrongType(_ key: String, expected: String, found: JSONValue) -> JSONError {
        JSONError("\"\(key)\" must be \(expected), not \(found.kind)")
    }
}

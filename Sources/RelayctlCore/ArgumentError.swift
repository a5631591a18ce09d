/// A command-line value relayctl cannot use, in one sentence (ArgumentParser shows it as a usage error).
public struct ArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

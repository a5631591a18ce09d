/// Login for SMTP AUTH; the password never appears in descriptions.
///
/// `description`, `debugDescription` and the reflection mirror (`dump`, default struct printing) all show the
/// username and a fixed mask instead of the password, so logging a configuration cannot leak it.
public struct SASLCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "SASLCredentials(username: \(username), password: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["username": username, "password": "<redacted>"]) }
}

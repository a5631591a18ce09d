/// The request line and header fields of one HTTP/1.x request, as `HTTPRequestParser` read them.
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case preserved: methods are case-sensitive (RFC 9110 §9.1), `get` is not `GET`.
    public var method: String
    /// The request target as sent (origin form `/path?query`, or whatever else the client wrote).
    public var target: String
    /// `(1, 0)` or `(1, 1)`.
    public var version: HTTPVersion
    /// The header fields in the order sent.
    public var fields: [HTTPField]

    public init(method: String, target: String, version: HTTPVersion, fields: [HTTPField] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.fields = fields
    }

    /// The target's path: everything before `?` or `#`.
    public var path: Substring {
        target.prefix { $0 != "?" && $0 != "#" }
    }

    /// The first field named `name` (ASCII case-insensitive), if any.
    public func value(of name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }
}

/// An HTTP/1.x protocol version.
public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

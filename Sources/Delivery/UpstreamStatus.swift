/// How the primary upstream looks from here: reachable, or the last failure to open a session with it.
public struct UpstreamStatus: Sendable, Equatable, Codable {
    /// `host:port` of the primary upstream, as configured.
    public var endpoint: String
    /// False from a failed connection, TLS handshake or login until a session opens again (deliveries are
    /// suspended for part of that time).
    public var reachable: Bool
    /// Why the last attempt to open a session failed; kept until a session opens.
    public var lastError: String?
    /// When that was, in seconds since the epoch.
    public var lastErrorAt: Double?

    public init(endpoint: String, reachable: Bool, lastError: String?, lastErrorAt: Double?) {
        self.endpoint = endpoint
        self.reachable = reachable
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
    }
}

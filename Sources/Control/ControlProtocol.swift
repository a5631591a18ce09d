/// The control channel's fixed limits (docs/control-protocol.md).
public enum ControlProtocol {
    /// The longest request line relayd reads, newline excluded; longer ones get a `bad_request` error.
    public static let maximumRequestLength = 64 * 1024
    /// A connection that sends no request for this long is closed.
    public static let idleTimeout = Duration.seconds(60)
    /// The longest reply line relayctl reads: a `show_raw` of the largest message (base64 adds a third).
    public static let maximumReplyLength = 256 * 1024 * 1024
}

/// Why a request head cannot be read; every case is answered with 400 and the connection closed.
public enum HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A line (request line or header field) longer than the limit, CRLF not counted.
    case lineTooLong(limit: Int)
    /// More header fields than the limit.
    case tooManyFields(limit: Int)
    /// A line ending in LF without CR before it. Refused rather than guessed at: a proxy in front may have
    /// split the head differently (request smuggling's classic ambiguity).
    case bareLineFeed
    /// Not `method SP target SP HTTP/x.y`.
    case malformedRequestLine
    /// An HTTP version other than 1.0 and 1.1.
    case unsupportedVersion
    /// A header field that is not `name: value`, has a control character, or continues the previous line
    /// (obsolete folding).
    case malformedField
    /// An HTTP/1.1 request without a Host field (RFC 9112 §3.2 says: answer 400).
    case missingHost

    public var description: String {
        switch self {
        case .lineTooLong(let limit): "line longer than \(limit) bytes"
        case .tooManyFields(let limit): "more than \(limit) header fields"
        case .bareLineFeed: "line ended by a bare LF"
        case .malformedRequestLine: "malformed request line"
        case .unsupportedVersion: "unsupported HTTP version"
        case .malformedField: "malformed header field"
        case .missingHost: "HTTP/1.1 request without Host"
        }
    }
}

/// What the upstream said it supports in its EHLO reply.
///
/// The first line of the reply is the server's name and greeting; every later line is a keyword with optional
/// parameters (RFC 5321 §4.1.1.1). Keywords and AUTH mechanisms are case-insensitive; unknown keywords are ignored.
public struct ServerCapabilities: Sendable, Equatable {
    /// RFC 2920.
    public var pipelining = false
    /// RFC 3207.
    public var startTLS = false
    /// RFC 1870 `SIZE n`: nil if absent or 0 (no limit); see `sizeExtension` for whether SIZE= may be declared.
    public var maxMessageSize: Int?
    /// RFC 1870: the SIZE keyword was present (with or without a limit), so MAIL may carry `SIZE=`.
    public var sizeExtension = false
    /// RFC 6152.
    public var eightBitMIME = false
    /// RFC 6531.
    public var smtputf8 = false
    /// RFC 2034.
    public var enhancedStatusCodes = false
    /// Upper-cased, in the order offered, from "AUTH PLAIN LOGIN" and the legacy "AUTH=PLAIN LOGIN".
    public var authMechanisms: [String] = []

    /// After a HELO fallback: nothing is offered.
    public static let none = ServerCapabilities()

    private init() {}

    /// Reads the keywords of an EHLO reply.
    public init(ehloReply: SMTPReply) {
        for line in ehloReply.lines.dropFirst() {
            let words = line.split { $0 == " " || $0 == "\t" }
            guard let keyword = words.first?.uppercased() else { continue }
            let parameters = words.dropFirst()
            switch keyword {
            case "PIPELINING": pipelining = true
            case "STARTTLS": startTLS = true
            case "8BITMIME": eightBitMIME = true
            case "SMTPUTF8": smtputf8 = true
            case "ENHANCEDSTATUSCODES": enhancedStatusCodes = true
            case "SIZE":
                sizeExtension = true
                if let limit = parameters.first.flatMap({ Int($0) }), limit > 0 { maxMessageSize = limit }
            case "AUTH":
                addMechanisms(parameters)
            case _ where keyword.hasPrefix("AUTH="):
                // Old Microsoft and Netscape servers announce "AUTH=LOGIN" (RFC 4954 never specified it).
                addMechanisms([keyword.dropFirst(5)] + parameters)
            default:
                continue
            }
        }
    }

    private mutating func addMechanisms(_ names: some Sequence<Substring>) {
        for name in names where !name.isEmpty {
            let upper = name.uppercased()
            if !authMechanisms.contains(upper) { authMechanisms.append(upper) }
        }
    }
}

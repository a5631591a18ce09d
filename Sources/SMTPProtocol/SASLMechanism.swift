/// The SASL mechanisms the client speaks (RFC 4954): PLAIN (RFC 4616) and the de-facto LOGIN.
///
/// Both send the password base64-encoded, not encrypted; `ClientSession` uses them only over TLS unless
/// plaintext authentication is explicitly allowed.
public enum SASLMechanism: String, Sendable, Equatable, CaseIterable {
    case plain = "PLAIN"
    case login = "LOGIN"

    /// The mechanism to use among those offered (upper-cased names): PLAIN, which needs one round trip, else LOGIN.
    public static func preferred(among offered: [String]) -> SASLMechanism? {
        if offered.contains(SASLMechanism.plain.rawValue) { return .plain }
        if offered.contains(SASLMechanism.login.rawValue) { return .login }
        return nil
    }
}

extension SASLCredentials {
    /// RFC 4616 §2: `[authzid] NUL authcid NUL passwd`, empty authzid, base64-encoded for the initial response.
    var plainInitialResponse: String {
        base64([0] + Array(username.utf8) + [0] + Array(password.utf8))
    }

    /// LOGIN's answer to the first 334 challenge ("Username:").
    var loginUsername: String { base64(Array(username.utf8)) }

    /// LOGIN's answer to the second 334 challenge ("Password:").
    var loginPassword: String { base64(Array(password.utf8)) }

    private func base64(_ bytes: [UInt8]) -> String { Base64.encode(bytes) }
}

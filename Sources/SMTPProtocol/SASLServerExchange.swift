/// The server side of one SASL exchange started by AUTH (RFC 4954): PLAIN (RFC 4616) or LOGIN, no I/O.
///
/// It only decodes what the client sends; whether the credentials are right is for the caller to find out.
struct SASLServerExchange: Sendable {
    /// Where the exchange stands after the AUTH command or a response line.
    enum Step: Sendable, Equatable {
        /// Send `334 <text>` (text already base64) and feed the client's next line to `respond`.
        case challenge(String)
        case credentials(SASLCredentials)
        /// The client answered `*`.
        case aborted
        /// Not base64, or not what the mechanism expects once decoded.
        case undecodable
        /// PLAIN named an authorization identity other than the authenticating one.
        case authorizationMismatch
    }

    private enum State: Sendable {
        case plain
        case loginUsername
        case loginPassword(username: String)
    }

    /// LOGIN's fixed challenges, base64 of "Username:" and "Password:" as every client expects them.
    static let usernameChallenge = "VXNlcm5hbWU6"
    static let passwordChallenge = "UGFzc3dvcmQ6"

    private var state: State

    /// Starts the exchange with the AUTH command's initial response, if it had one.
    static func start(_ mechanism: SASLMechanism, initialResponse: String?) -> (exchange: SASLServerExchange, step: Step) {
        var exchange = SASLServerExchange(state: mechanism == .plain ? .plain : .loginUsername)
        guard let initialResponse else {
            return (exchange, .challenge(mechanism == .plain ? "" : usernameChallenge))
        }
        // RFC 4954 §4: "=" is how an initial response says it is empty, since an absent one means "send a challenge".
        let decoded = initialResponse == "=" ? [] : Base64.decode(initialResponse.utf8)
        guard let decoded else { return (exchange, .undecodable) }
        let step = exchange.advance(with: decoded)
        return (exchange, step)
    }

    /// The client's answer to the last challenge: one line, without its line ending.
    mutating func respond(_ line: some Collection<UInt8>) -> Step {
        if line.elementsEqual("*".utf8) { return .aborted }
        guard let decoded = Base64.decode(line) else { return .undecodable }
        return advance(with: decoded)
    }

    private mutating func advance(with decoded: [UInt8]) -> Step {
        switch state {
        case .plain:
            // authzid NUL authcid NUL passwd; authcid and passwd are 1*SAFE, so neither may be empty.
            let parts = decoded.split(separator: 0, omittingEmptySubsequences: false)
            guard parts.count == 3, let authzid = Self.text(parts[0], allowEmpty: true),
                  let username = Self.text(parts[1]), let password = Self.text(parts[2]) else { return .undecodable }
            // We act for nobody else: a client may only name itself as the identity to act as.
            guard authzid.isEmpty || authzid == username else { return .authorizationMismatch }
            return .credentials(SASLCredentials(username: username, password: password))
        case .loginUsername:
            guard let username = Self.text(decoded) else { return .undecodable }
            state = .loginPassword(username: username)
            return .challenge(Self.passwordChallenge)
        case .loginPassword(let username):
            guard let password = Self.text(decoded) else { return .undecodable }
            return .credentials(SASLCredentials(username: username, password: password))
        }
    }

    /// UTF-8 without NUL: LOGIN's values must be representable in PLAIN too, or the two would accept different logins.
    private static func text(_ bytes: some Collection<UInt8>, allowEmpty: Bool = false) -> String? {
        guard allowEmpty || !bytes.isEmpty, !bytes.contains(0) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
}

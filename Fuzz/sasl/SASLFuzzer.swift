// libFuzzer target `sasl`: SASLServerExchange (inbound AUTH PLAIN and LOGIN), compiled with Sources/SMTPProtocol.
//
// Invariants:
// - arbitrary initial responses and response lines never crash, and the same lines give the same steps;
// - the strict base64 decoder inverts RFC 4648 encoding (and Foundation's), and what it accepts re-encodes to
//   the same length and decodes the same again;
// - PLAIN: base64(authzid NUL user NUL pass) built from the input yields exactly user/pass, or the refusal the
//   rules call for (empty or non-UTF-8 user/pass, NUL inside a part: undecodable; another authzid: mismatch),
//   both as an initial response and after the empty challenge; LOGIN likewise over its two challenges.

private typealias Step = SASLServerExchange.Step

/// What a correct server answers for these parts (none contains NUL unless `hasNUL`).
private func expectedPlain(authzid: [UInt8], user: [UInt8], pass: [UInt8]) -> Step {
    guard !(authzid + user + pass).contains(0),
          !user.isEmpty, !pass.isEmpty,
          let a = String(validating: authzid, as: UTF8.self),
          let u = String(validating: user, as: UTF8.self),
          let p = String(validating: pass, as: UTF8.self) else { return .undecodable }
    return a.isEmpty || a == u ? .credentials(SASLCredentials(username: u, password: p)) : .authorizationMismatch
}

private func expectedLogin(_ bytes: [UInt8]) -> String? {
    bytes.isEmpty || bytes.contains(0) ? nil : String(validating: bytes, as: UTF8.self)
}

private func b64(_ bytes: [UInt8]) -> String { String(decoding: referenceBase64(bytes), as: UTF8.self) }

private func run(_ mechanism: SASLMechanism, initial: String?, lines: [[UInt8]]) -> [Step] {
    var (exchange, step) = SASLServerExchange.start(mechanism, initialResponse: initial)
    var steps = [step]
    for line in lines {
        guard case .challenge = step else { break }
        step = exchange.respond(line)
        steps.append(step)
    }
    return steps
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let bytes = Array(input)

    // Arbitrary text as the initial response and as response lines (split at LF, as the framer would).
    let lines = bytes.split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
    for mechanism in SASLMechanism.allCases {
        let initial = lines.first.map { String(decoding: $0, as: UTF8.self) }
        let first = run(mechanism, initial: initial, lines: Array(lines.dropFirst()))
        check(run(mechanism, initial: initial, lines: Array(lines.dropFirst())) == first, "SASL steps are not deterministic")
        _ = run(mechanism, initial: nil, lines: lines)
    }

    // base64 both ways, padded (SASL) and unpadded (password hashes), against the reference encoder.
    let reference = referenceBase64(bytes)
    check(Array(Base64.encode(bytes).utf8) == reference, "Base64.encode differs from the reference")
    check(Base64.decode(reference) == bytes, "decode(encode(x)) != x")
    let unpadded = Array(reference.prefix { $0 != UInt8(ascii: "=") })
    check(Array(Base64.encode(bytes, padded: false).utf8) == unpadded, "unpadded encoding differs from the reference")
    check(Base64.decode(unpadded, padded: false) == bytes, "unpadded decode(encode(x)) != x")
    if let decoded = Base64.decode(bytes) {
        // Strict: the only text that decodes to these bytes is their canonical encoding.
        check(referenceBase64(decoded) == bytes, "accepted base64 that is not the canonical encoding of what it decodes to")
    }
    if let decoded = Base64.decode(bytes, padded: false) {
        check(Array(referenceBase64(decoded).prefix { $0 != UInt8(ascii: "=") }) == bytes, "accepted unpadded base64 that is not canonical")
    }

    // PLAIN and LOGIN with parts cut from the input at 0xFF bytes.
    let parts = bytes.split(separator: 0xFF, maxSplits: 2, omittingEmptySubsequences: false).map(Array.init)
    let authzid = parts.count == 3 ? parts[0] : []
    let user = parts.count >= 2 ? parts[parts.count - 2] : parts.first ?? []
    let pass = parts.count >= 2 ? parts[parts.count - 1] : []
    let message = b64(authzid + [0] + user + [0] + pass)
    let expected = expectedPlain(authzid: authzid, user: user, pass: pass)
    check(SASLServerExchange.start(.plain, initialResponse: message).step == expected, "PLAIN initial response: expected \(expected)")
    check(run(.plain, initial: nil, lines: [Array(message.utf8)]) == [.challenge(""), expected], "PLAIN after a challenge: expected \(expected)")
    if case .credentials(let credentials) = expected, authzid.isEmpty {
        // What our own client sends (Foundation's base64) is what the server reads.
        check(SASLServerExchange.start(.plain, initialResponse: credentials.plainInitialResponse).step == expected, "our client's PLAIN is misread")
    }

    let loginSteps = run(.login, initial: nil, lines: [Array(b64(user).utf8), Array(b64(pass).utf8)])
    let wanted: [Step]
    switch (expectedLogin(user), expectedLogin(pass)) {
    case (nil, _): wanted = [.challenge(SASLServerExchange.usernameChallenge), .undecodable]
    case (let u?, nil): _ = u; wanted = [.challenge(SASLServerExchange.usernameChallenge), .challenge(SASLServerExchange.passwordChallenge), .undecodable]
    case (let u?, let p?):
        wanted = [.challenge(SASLServerExchange.usernameChallenge), .challenge(SASLServerExchange.passwordChallenge),
                  .credentials(SASLCredentials(username: u, password: p))]
    }
    check(loginSteps == wanted, "LOGIN gave \(loginSteps), expected \(wanted)")
    check(run(.login, initial: nil, lines: [Array("*".utf8)]) == [.challenge(SASLServerExchange.usernameChallenge), .aborted], "LOGIN abort")
    return 0
}

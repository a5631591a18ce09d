import SMTPProtocol
import Testing

/// What happens next in a client dialogue: the upstream says something, or the driver reports an event.
///
/// A string literal is the upstream's text, one reply or several (pipelined replies arriving in one read), with
/// "\n" between lines; the runner sends it through `SMTPReplyParser` with CRLF line ends.
enum Happening: Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    case server(String)
    case connect
    case tls
    case start(ClientTransaction)
    case quit

    init(stringLiteral text: String) { self = .server(text) }

    var description: String {
        switch self {
        case .server(let text): "S: \(text)"
        case .connect: "connect"
        case .tls: "tlsEstablished"
        case .start(let transaction): "start(\(transaction.recipients.count) recipients)"
        case .quit: "quit"
        }
    }
}

/// A client dialogue as a table, in chasquid's style: each step is what happens and what the client must do,
/// written compactly: a command line as it is sent ("MAIL FROM:<a@client.example>"; pipelined commands in one
/// write joined with " | "; a write that is not CRLF-terminated lines shows as BROKEN), "startTLS", "sendBody",
/// "ready", "completed(250 2.0.0; 550 5.1.1)", "failed(serviceClosing 421 4.4.2, inFlight)", "close".
struct ClientDialogue: Sendable, CustomTestStringConvertible {
    typealias Step = (happening: Happening, expected: [String])

    var name: String
    var configuration: ClientSession.Configuration
    var steps: [Step]

    init(_ name: String, _ configuration: ClientSession.Configuration = .plain, _ steps: [Step]) {
        self.name = name
        self.configuration = configuration
        self.steps = steps
    }

    var testDescription: String { name }

    /// Plays every step, checks its actions, and returns the session and every command line the client sent.
    @discardableResult
    func run(sourceLocation: SourceLocation = #_sourceLocation) -> (session: ClientSession, sent: [String]) {
        var session = ClientSession(configuration: configuration)
        var sent: [String] = []
        for (index, step) in steps.enumerated() {
            let actions = Self.perform(step.happening, on: &session, sourceLocation: sourceLocation)
            let rendered = actions.map(renderClient)
            #expect(rendered == step.expected, "step \(index + 1): \(step.happening)", sourceLocation: sourceLocation)
            for case .send(let bytes) in actions { sent += renderSend(bytes).components(separatedBy: " | ") }
        }
        return (session, sent)
    }

    private static func perform(_ happening: Happening, on session: inout ClientSession, sourceLocation: SourceLocation) -> [ClientSession.Action] {
        switch happening {
        case .connect: return session.handle(.connected)
        case .tls: return session.handle(.tlsEstablished)
        case .start(let transaction): return session.handle(.start(transaction))
        case .quit: return session.handle(.quit)
        case .server(let text):
            var parser = SMTPReplyParser()
            parser.append(wire(text))
            var actions: [ClientSession.Action] = []
            do {
                while let reply = try parser.next() { actions += session.handle(.replyReceived(reply)) }
            } catch {
                Issue.record("the server text does not parse: \(error)", sourceLocation: sourceLocation)
            }
            #expect(parser.bufferedByteCount == 0, "incomplete server text: \(text)", sourceLocation: sourceLocation)
            return actions
        }
    }
}

/// Server text with "\n" between lines as it goes on the wire.
func wire(_ text: String) -> [UInt8] {
    bytes(text.split(separator: "\n", omittingEmptySubsequences: false).map { $0 + "\r\n" }.joined())
}

/// The login every AUTH dialogue uses: base64 "\0user\0secret" is AHVzZXIAc2VjcmV0, "user" dXNlcg==, "secret" c2VjcmV0.
let testCredentials = SASLCredentials(username: "user", password: "secret")

extension ClientSession.Configuration {
    /// No TLS, no AUTH: a relay on the local network.
    static let plain = ClientSession.Configuration(
        heloName: "relay.example", security: .none, credentials: nil, allowPlaintextAuthentication: false)
    /// Brevo on 587: STARTTLS, then AUTH.
    static let startTLSWithAuth = ClientSession.Configuration(
        heloName: "relay.example", security: .startTLS, credentials: testCredentials, allowPlaintextAuthentication: false)
    /// Brevo on 465: implicit TLS, then AUTH.
    static let implicitTLSWithAuth = ClientSession.Configuration(
        heloName: "relay.example", security: .implicitTLS, credentials: testCredentials, allowPlaintextAuthentication: false)

    func with(_ change: (inout Self) -> Void) -> Self {
        var copy = self
        change(&copy)
        return copy
    }
}

/// A transaction from a@client.example; `eightBit` and `utf8` ask for BODY=8BITMIME and SMTPUTF8.
func envelope(_ recipients: [String] = ["b@dest.example"], from sender: String = "a@client.example", size: Int = 100,
              eightBit: Bool = false, utf8: Bool = false) -> ClientTransaction {
    ClientTransaction(sender: sender, recipients: recipients, size: size, eightBitMIME: eightBit, smtputf8: utf8)
}

/// The start of most transaction dialogues: connect, greeting, EHLO with `ehlo` as the reply, ready.
func hello(_ ehlo: String) -> [ClientDialogue.Step] {
    [
        (.connect, []),
        ("220 mx.example ESMTP", ["EHLO relay.example"]),
        (.server(ehlo), ["ready"]),
    ]
}

func renderClient(_ action: ClientSession.Action) -> String {
    switch action {
    case .send(let bytes): renderSend(bytes)
    case .startTLS: "startTLS"
    case .sendBody: "sendBody"
    case .ready: "ready"
    case .completed(let result): "completed(\(result.replies.map(code).joined(separator: "; ")))"
    case .failed(let failure, let inFlight): "failed(\(render(failure))\(inFlight == nil ? "" : ", inFlight"))"
    case .close: "close"
    }
}

/// The command lines of one write joined with " | "; a write that is not CRLF-terminated lines shows as BROKEN.
func renderSend(_ bytes: [UInt8]) -> String {
    var lines: [String] = []
    var line: [UInt8] = []
    var previous: UInt8 = 0
    for byte in bytes {
        if byte == 10, previous == 13 {
            lines.append(String(decoding: line.dropLast(), as: UTF8.self))
            line = []
        } else if byte == 10 || byte == 0 || previous == 13 {
            return "BROKEN(bare CR, bare LF or NUL: \(String(decoding: bytes, as: UTF8.self)))"
        } else {
            line.append(byte)
        }
        previous = byte
    }
    guard line.isEmpty, !lines.isEmpty else { return "BROKEN(no CRLF at the end: \(String(decoding: bytes, as: UTF8.self)))" }
    return lines.joined(separator: " | ")
}

/// "550 5.1.1" or "250".
func code(_ reply: SMTPReply) -> String {
    reply.enhanced.map { "\(reply.code) \($0)" } ?? "\(reply.code)"
}

func render(_ failure: ClientSessionFailure) -> String {
    switch failure {
    case .greetingRefused(let reply): "greetingRefused \(code(reply))"
    case .ehloRefused(let reply): "ehloRefused \(code(reply))"
    case .startTLSNotOffered: "startTLSNotOffered"
    case .startTLSRefused(let reply): "startTLSRefused \(code(reply))"
    case .plaintextInjection: "plaintextInjection"
    case .authenticationNotOffered: "authenticationNotOffered"
    case .authenticationFailed(let reply): "authenticationFailed \(code(reply))"
    case .credentialsRequireTLS: "credentialsRequireTLS"
    case .serviceClosing(let reply): "serviceClosing \(code(reply))"
    case .unexpectedReply(let reply, let command): "unexpectedReply \(code(reply)) to \(command)"
    case .malformedReply(let why): "malformedReply \(why)"
    }
}

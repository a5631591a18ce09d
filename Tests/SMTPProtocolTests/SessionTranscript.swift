import SMTPProtocol
import Testing

/// A server-session dialogue as a table: each step is an event and the actions it must produce, written compactly
/// as "250 2.1.0" (reply code and enhanced code), "354", "receiveData(1000)", "commit(client.example)",
/// "verify(user:password)", "close".
struct Transcript: Sendable, CustomTestStringConvertible {
    typealias Step = (event: ServerSession.Event, expected: [String])

    var name: String
    var configuration: ServerSession.Configuration
    var steps: [Step]

    init(_ name: String, _ steps: [Step]) {
        self.init(name, .standard, steps)
    }

    init(_ name: String, _ configuration: ServerSession.Configuration, _ steps: [Step]) {
        self.name = name
        self.configuration = configuration
        self.steps = steps
    }

    var testDescription: String { name }

    /// Connects (expecting the 220 greeting), plays every step and checks its actions.
    func run(sourceLocation: SourceLocation = #_sourceLocation) {
        var session = ServerSession(configuration: configuration)
        #expect(session.handle(.connected).map(render) == ["220"], sourceLocation: sourceLocation)
        for (index, step) in steps.enumerated() {
            let actions = session.handle(step.event).map(render)
            #expect(actions == step.expected, "step \(index + 1): \(describe(step.event))", sourceLocation: sourceLocation)
        }
    }
}

extension ServerSession.Configuration {
    static let standard = ServerSession.Configuration(
        hostname: "mx.example", maxMessageSize: 1000, maxRecipients: 3, maxErrors: 10, relayAllowed: true)

    func with(_ change: (inout Self) -> Void) -> Self {
        var copy = self
        change(&copy)
        return copy
    }
}

func render(_ action: ServerSession.Action) -> String {
    switch action {
    case .send(let reply): reply.enhanced.map { "\(reply.code) \($0)" } ?? "\(reply.code)"
    case .receiveData(let sizeLimit): "receiveData(\(sizeLimit))"
    case .commit(_, let heloName): "commit(\(heloName))"
    case .startTLS: "startTLS"
    case .verifyCredentials(let username, let password): "verify(\(username):\(password))"
    case .admitMessage(let user): "admit(\(user ?? "-"))"
    case .close: "close"
    }
}

private func describe(_ event: ServerSession.Event) -> String {
    if case .input(.line(let line)) = event { return String(decoding: line, as: UTF8.self) }
    return "\(event)"
}

/// A command line as the framer delivers it.
func command(_ line: String) -> ServerSession.Event { .input(.line(bytes(line))) }

/// The end of DATA with the decoder's findings; `change` sets the interesting ones.
func dataEnd(size: Int = 100, _ change: (inout DataDecoder.Findings) -> Void = { _ in }) -> ServerSession.Event {
    var findings = noFindings
    findings.size = size
    change(&findings)
    return .dataReceived(findings)
}

/// Steps that occur in almost every transcript.
enum Steps {
    static let ehlo: Transcript.Step = (command("EHLO client.example"), ["250"])
    static let mail: Transcript.Step = (command("MAIL FROM:<a@client.example>"), ["250 2.1.0"])
    static let rcpt: Transcript.Step = (command("RCPT TO:<b@dest.example>"), ["250 2.1.5"])
    static let data: Transcript.Step = (command("DATA"), ["354", "receiveData(1000)"])
    static let end: Transcript.Step = (dataEnd(), ["commit(client.example)"])
    static func committed(_ id: String) -> Transcript.Step { (.committed(queueID: id), ["250 2.0.0"]) }
    static let quit: Transcript.Step = (command("QUIT"), ["221 2.0.0", "close"])
    /// EHLO, MAIL, RCPT, DATA: the session is now waiting for the message.
    static let upToData: [Transcript.Step] = [ehlo, mail, rcpt, data]
    /// A whole accepted message after EHLO.
    static func message(_ id: String) -> [Transcript.Step] { [mail, rcpt, data, end, committed(id)] }
}

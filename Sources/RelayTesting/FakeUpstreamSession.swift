import FoundationEssentials
import Transport

/// One connection to the `FakeUpstream`: a deliberately small SMTP server loop with the fake's faults.
struct FakeUpstreamSession {
    let fake: FakeUpstream
    var stream: any ByteStream
    var secure: Bool
    private var buffer: [UInt8] = []
    private var login: String?
    private var sender: String?
    private var recipients: [String] = []
    private var failTransaction = false

    init(fake: FakeUpstream, stream: any ByteStream, secure: Bool) {
        self.fake = fake
        self.stream = stream
        self.secure = secure
    }

    private var script: FakeUpstream.Script { fake.script }

    mutating func run() async {
        defer { stream.close() }
        if script.stall {
            _ = try? await readLine()  // hold the connection open until the client gives up
            return
        }
        do {
            if let refusal = script.refusalGreeting {
                try await reply(refusal)
                return
            }
            try await reply("220 \(script.hostname) ESMTP fake")
            while let line = try await readCommand() {
                fake.noteCommand(line, secure: secure)
                guard try await handle(line) else { return }
            }
        } catch {
            return
        }
    }

    /// Answers one command; false ends the session.
    private mutating func handle(_ line: String) async throws -> Bool {
        let verb = line.split(separator: " ", maxSplits: 1).first.map { $0.uppercased() } ?? ""
        let argument = line.count > verb.count ? String(line.dropFirst(verb.count + 1)) : ""
        switch verb {
        case "EHLO":
            var lines = ["250-\(script.hostname)"]
            if script.pipelining { lines.append("250-PIPELINING") }
            lines += ["250-SIZE 10240000", "250-8BITMIME", "250-ENHANCEDSTATUSCODES"]
            if script.tls != nil, !secure { lines.append("250-STARTTLS") }
            if script.login != nil { lines.append("250-AUTH " + script.authMechanisms.joined(separator: " ")) }
            lines.append("250 SMTPUTF8")
            try await reply(lines.joined(separator: "\r\n"))
        case "HELO":
            try await reply("250 \(script.hostname)")
        case "STARTTLS":
            guard let tls = script.tls, !secure, let plain = stream as? TCPConnection else {
                try await reply("502 5.5.1 STARTTLS not available")
                return true
            }
            try await reply("220 2.0.0 Ready to start TLS")
            stream = try await TLSConnection.accept(over: plain, context: tls, deadline: .now + .seconds(10))
            secure = true
            buffer.removeAll()
            login = nil
        case "AUTH":
            try await authenticate(argument)
        case "MAIL":
            if script.requireTLS, !secure {
                try await reply("530 5.7.0 Must issue a STARTTLS command first")
            } else if script.login != nil, login == nil {
                try await reply("530 5.7.0 Authentication required")
            } else {
                failTransaction = fake.beginTransaction()
                if failTransaction {
                    try await reply(script.temporaryFailureReply)
                } else {
                    sender = Self.path(argument)
                    recipients = []
                    try await reply("250 2.1.0 Ok")
                }
            }
        case "RCPT":
            guard sender != nil else {
                try await reply("503 5.5.1 Error: need MAIL command")
                return true
            }
            let recipient = Self.path(argument)
            if let scripted = script.recipientReplies[recipient] {
                try await reply(scripted)
            } else {
                recipients.append(recipient)
                try await reply("250 2.1.5 Ok")
            }
        case "DATA":
            guard let sender, !recipients.isEmpty else {
                try await reply("554 5.5.1 Error: no valid recipients")
                return !script.hangUpAfterRefusingData
            }
            try await reply("354 End data with <CR><LF>.<CR><LF>")
            let drop = fake.shouldDrop()
            guard let data = try await readData(dropAfter: drop ? script.dropDuringData?.afterBytes : nil) else { return false }
            fake.accept(.init(sender: sender, recipients: recipients, data: data, secure: secure, login: login))
            self.sender = nil
            recipients = []
            try await reply("250 2.0.0 Ok: queued as FAKE\(fake.messages.count)")
        case "RSET":
            sender = nil
            recipients = []
            try await reply("250 2.0.0 Ok")
        case "NOOP":
            try await reply("250 2.0.0 Ok")
        case "QUIT":
            try await reply("221 2.0.0 Bye")
            return false
        default:
            try await reply("502 5.5.2 Error: command not recognized")
        }
        return true
    }

    private mutating func authenticate(_ argument: String) async throws {
        guard let expected = script.login else {
            try await reply("503 5.5.1 AUTH not available")
            return
        }
        let parts = argument.split(separator: " ")
        let mechanism = parts.first.map { $0.uppercased() } ?? ""
        var username = ""
        var password = ""
        switch mechanism {
        case "PLAIN":
            var response = parts.count > 1 ? String(parts[1]) : nil
            if response == nil {
                try await reply("334 ")
                response = try await readLine()
            }
            let fields = Self.decode(response ?? "").split(separator: 0, omittingEmptySubsequences: false)
            guard fields.count == 3 else {
                try await reply("501 5.5.2 Cannot decode response")
                return
            }
            username = String(decoding: fields[1], as: UTF8.self)
            password = String(decoding: fields[2], as: UTF8.self)
        case "LOGIN":
            try await reply("334 VXNlcm5hbWU6")
            username = String(decoding: Self.decode(try await readLine() ?? ""), as: UTF8.self)
            try await reply("334 UGFzc3dvcmQ6")
            password = String(decoding: Self.decode(try await readLine() ?? ""), as: UTF8.self)
        default:
            try await reply("504 5.5.4 Unrecognized authentication type")
            return
        }
        if username == expected.username, password == expected.password {
            login = username
            try await reply("235 2.7.0 Authentication successful")
        } else {
            try await reply("535 5.7.8 Error: authentication failed")
        }
    }

    private static func decode(_ base64: String) -> [UInt8] {
        Data(base64Encoded: base64).map { Array($0) } ?? []
    }

    /// `FROM:<a@b> SIZE=1` → `a@b`.
    private static func path(_ argument: String) -> String {
        guard let open = argument.firstIndex(of: "<"), let close = argument[open...].firstIndex(of: ">") else { return "" }
        return String(argument[argument.index(after: open)..<close])
    }

    private func reply(_ text: String) async throws {
        try await stream.write(Array((text + "\r\n").utf8), deadline: .now + .seconds(10))
    }

    /// The next command line; with an idle timeout scripted, a silent client gets 421 and nil.
    private mutating func readCommand() async throws -> String? {
        guard let idle = script.idleTimeout else { return try await readLine() }
        do {
            return try await readLine(deadline: .now + idle)
        } catch TransportError.timedOut {
            try await reply("421 4.4.2 \(script.hostname) Error: timeout exceeded")
            return nil
        } catch TLSError.transport(.timedOut) {
            try await reply("421 4.4.2 \(script.hostname) Error: timeout exceeded")
            return nil
        }
    }

    private mutating func fill(deadline: ContinuousClock.Instant = .now + .seconds(30)) async throws -> Bool {
        var chunk: [UInt8] = []
        let n = try await stream.read(maxBytes: 64 * 1024, deadline: deadline) { chunk.append(contentsOf: $0) }
        buffer += chunk
        return n > 0
    }

    private mutating func readLine(deadline: ContinuousClock.Instant = .now + .seconds(30)) async throws -> String? {
        while true {
            if let lf = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<lf])
                buffer.removeFirst(lf + 1)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard try await fill(deadline: deadline) else { return nil }
        }
    }

    /// The DATA phase up to CRLF.CRLF, dot-unstuffed; nil if the connection ended (or was dropped on purpose).
    private mutating func readData(dropAfter: Int?) async throws -> [UInt8]? {
        var data: [UInt8] = []
        var received = 0
        while true {
            if let lf = buffer.firstIndex(of: 10) {
                var line = Array(buffer[...lf])
                buffer.removeFirst(lf + 1)
                received += line.count
                if line == Array(".\r\n".utf8) { return data }
                if line.first == UInt8(ascii: ".") { line.removeFirst() }
                data += line
                if let dropAfter, received >= dropAfter { return nil }
                continue
            }
            guard try await fill() else { return nil }
        }
    }
}

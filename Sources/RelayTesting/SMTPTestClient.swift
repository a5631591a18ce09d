/// One SMTP reply as a client reads it: the code and the text of each line.
public struct SMTPTestReply: Sendable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]
    /// The first line's text after the code, e.g. `2.0.0 Ok: queued as 01J…`.
    public var text: String { lines.first ?? "" }
    public var description: String { lines.map { "\(code) \($0)" }.joined(separator: " / ") }
}

/// A minimal SMTP client over a `BlockingSocket`: sends lines, reads (multi-line) replies.
/// It does no protocol checking of its own, so tests can send exactly what they want.
public final class SMTPTestClient: @unchecked Sendable {
    public let socket: BlockingSocket
    private var buffer: [UInt8] = []

    public init(socket: BlockingSocket) { self.socket = socket }

    public static func connect(host: String = "127.0.0.1", port: UInt16) async throws -> SMTPTestClient {
        SMTPTestClient(socket: try await BlockingSocket.connect(host: host, port: port))
    }

    /// Sends raw text as is (no CRLF added).
    public func send(_ text: String) async throws { try await socket.send(Array(text.utf8)) }
    public func send(_ bytes: [UInt8]) async throws { try await socket.send(bytes) }

    /// Sends `line` + CRLF and reads the reply.
    public func command(_ line: String) async throws -> SMTPTestReply {
        try await send(line + "\r\n")
        return try await readReply()
    }

    /// Reads one reply (`250-…` continuation lines up to `250 …`); nil when the server closed first.
    public func readReplyIfAny() async throws -> SMTPTestReply? {
        var lines: [String] = []
        while true {
            guard let line = try await readLine() else { return nil }
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw SMTPTestClientError.malformed(line) }
            let separator = line.dropFirst(3).first
            lines.append(String(line.dropFirst(4)))
            if separator != "-" { return SMTPTestReply(code: code, lines: lines) }
        }
    }

    /// Reads one reply; throws when the server closed the connection instead.
    public func readReply() async throws -> SMTPTestReply {
        guard let reply = try await readReplyIfAny() else { throw SMTPTestClientError.closed }
        return reply
    }

    /// Whether the server has closed its end (reads to end of stream; any extra bytes are an error).
    public func readEndOfStream() async throws -> Bool {
        try await socket.receive().isEmpty && buffer.isEmpty
    }

    public func close() { socket.close() }

    private func readLine() async throws -> String? {
        while true {
            if let lf = buffer.firstIndex(of: 10) {
                var line = Array(buffer[..<lf])
                buffer.removeFirst(lf + 1)
                if line.last == 13 { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            let chunk = try await socket.receive()
            if chunk.isEmpty { return nil }
            buffer += chunk
        }
    }
}

/// What went wrong on the client side of a test conversation.
public enum SMTPTestClientError: Error, Sendable {
    case closed
    case malformed(String)
}

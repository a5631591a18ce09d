#if canImport(Glibc)
import Glibc
#endif

/// Just enough SMTP client to hand one message to relayd's own listener, for `relayctl send-test`: a
/// blocking socket (a CLI has nothing else to do meanwhile), one command at a time, every wait bounded by
/// `timeout`.
public final class SMTPSubmission {
    /// `host:port` as connected to, for messages.
    public let address: String
    private var fd: Int32
    private var reader = SMTPReplyReader()

    /// Connects and reads the greeting. `host` may be a name or a numeric address.
    public init(host: String, port: UInt16, timeout: Duration) throws(SMTPSubmissionError) {
        address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        fd = try Self.connect(host: host, port: port, timeout: timeout, address: address)
        let greeting = try readReply()
        guard greeting.code == 220 else {
            close()
            throw .refused(command: "", reply: greeting)
        }
    }

    deinit { close() }

    /// The address to reach a listener at: its own, or loopback for a wildcard (`0.0.0.0`, `::`).
    public static func reachableHost(forListener host: String) -> String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::", "[::]": "::1"
        default: host
        }
    }

    /// Sends EHLO, MAIL, RCPT and DATA with `message` (CR LF lines, no line starting with a dot) and returns
    /// relayd's reply to the final dot. Any other reply than the expected one throws `.refused`.
    public func submit(ehlo: String, from: String, to: String, message: [UInt8]) throws(SMTPSubmissionError) -> SMTPReply {
        try command("EHLO \(ehlo)", expecting: 250)
        try command("MAIL FROM:<\(from)>", expecting: 250)
        try command("RCPT TO:<\(to)>", expecting: 250)
        try command("DATA", expecting: 354)
        var data = message
        if let last = data.last, last != 10 { data += Array("\r\n".utf8) }
        data += Array(".\r\n".utf8)
        try send(data)
        let reply = try readReply()
        guard reply.code == 250 else { throw .refused(command: "the message's final dot", reply: reply) }
        return reply
    }

    /// Says QUIT (its answer does not matter) and closes the connection.
    public func quit() {
        guard fd >= 0 else { return }
        if (try? send(Array("QUIT\r\n".utf8))) != nil { _ = try? readReply() }
        close()
    }

    /// Closes the connection; safe twice.
    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    @discardableResult
    private func command(_ line: String, expecting code: Int) throws(SMTPSubmissionError) -> SMTPReply {
        try send(Array((line + "\r\n").utf8))
        let reply = try readReply()
        guard reply.code == code else { throw .refused(command: line, reply: reply) }
        return reply
    }

    private func send(_ bytes: [UInt8]) throws(SMTPSubmissionError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { throw .closed(address: address) }
                throw .system(operation: "send", address: address, errno: errno)
            }
            offset += n
        }
    }

    private func readReply() throws(SMTPSubmissionError) -> SMTPReply {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let reply = try reader.next() { return reply }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { throw .closed(address: address) }
                throw .system(operation: "recv", address: address, errno: errno)
            }
            if n == 0 { throw .closed(address: address) }
            reader.append(chunk[0..<n])
        }
    }

    /// Tries each address the host resolves to; SO_RCVTIMEO and SO_SNDTIMEO (which also bounds connect on
    /// Linux) make every wait end after `timeout`.
    private static func connect(host: String, port: UInt16, timeout: Duration, address: String) throws(SMTPSubmissionError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, "\(port)", &hints, &list)
        guard status == 0, let first = list else {
            throw .system(operation: "resolve: \(String(cString: gai_strerror(status)))", address: address, errno: 0)
        }
        defer { freeaddrinfo(list) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        var lastError: Int32 = ECONNREFUSED
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errno; continue }
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            lastError = errno
            Glibc.close(fd)
        }
        if lastError == ECONNREFUSED || lastError == ENETUNREACH || lastError == EHOSTUNREACH || lastError == EADDRNOTAVAIL {
            throw .unreachable(address: address, errno: lastError)
        }
        throw .system(operation: "connect", address: address, errno: lastError)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import FastJSON
import Transport

/// relayctl's end of the control channel: a plain blocking Unix socket (a CLI has nothing else to do while
/// it waits), one request at a time.
///
/// Waits are bounded by `timeout` of silence from relayd, not by the length of an answer: a listing of a
/// hundred thousand messages may take longer than that in total and is still fine while it flows. An
/// `await_outcome` request stretches the wait to its own timeout plus a margin.
public final class ControlClient {
    public let path: String
    /// The longest silence from relayd tolerated while waiting for a reply.
    public var timeout: Duration
    private var fd: Int32
    private var buffer: [UInt8] = []
    /// Start of the unread part of `buffer`.
    private var start = 0
    /// Offset in `buffer` up to which there is no newline.
    private var scanned = 0
    private var replyTimeout: Duration

    /// Connects to relayd's control socket. Throws `.unreachable` when relayd is not running there.
    public init(path: String, timeout: Duration = .seconds(60)) throws(ControlClientError) {
        self.path = path
        self.timeout = timeout
        replyTimeout = timeout
        let address: UnixSocketAddress
        do throws(TransportError) { address = try UnixSocketAddress(path: path) } catch {
            throw .system(operation: "connect", path: path, errno: ENAMETOOLONG)
        }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(operation: "socket", path: path, errno: errno) }
        var result: Int32
        repeat { result = address.withSockaddr { Glibc.connect(fd, $0, $1) } } while result != 0 && errno == EINTR
        if result != 0 {
            let code = errno
            Glibc.close(fd)
            fd = -1
            if code == ENOENT || code == ECONNREFUSED { throw .unreachable(path: path, errno: code) }
            throw .system(operation: "connect", path: path, errno: code)
        }
    }

    deinit { close() }

    /// Closes the connection; safe twice.
    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    /// Sends one request line.
    public func send(_ request: ControlRequest) throws(ControlClientError) {
        var writer = JSONWriter()
        request.write(to: &writer)
        writer.endLine()
        if case .awaitOutcome(_, let seconds) = request {
            replyTimeout = max(timeout, .seconds(seconds) + .seconds(30))
        } else {
            replyTimeout = timeout
        }
        try write(writer.bytes)
    }

    /// Sends a request and returns its reply. For `queue`, the listed messages are skipped and the
    /// summary returned (use `queue(_:each:)` to see them). An error reply throws `.rejected`.
    public func request(_ request: ControlRequest) throws(ControlClientError) -> ControlReply {
        try send(request)
        while true {
            guard let reply = try nextReply() else { throw .disconnected(path: path) }
            if case .error(let error) = reply { throw .rejected(error) }
            if reply.isFinal { return reply }
        }
    }

    /// Lists the messages `filter` matches, handing each to `each` as it arrives, and returns the summary.
    public func queue(_ filter: QueueFilter, each: (QueueEntry) -> Void) throws(ControlClientError) -> QueueSummary {
        try send(.queue(filter))
        while true {
            guard let line = try nextLine() else { throw .disconnected(path: path) }
            let listed: Result<QueueEntry?, JSONError> = line.withUnsafeBufferPointer { bytes in
                do throws(JSONError) { return .success(try ControlReply.listedEntry(bytes)) } catch { return .failure(error) }
            }
            switch listed {
            case .success(let entry?):
                each(entry)
                continue
            case .success(nil): break
            case .failure(let error): throw .malformedReply(error.message)
            }
            switch try reply(line) {
            case .summary(let summary): return summary
            case .error(let error): throw .rejected(error)
            case let other: throw .malformedReply("a queue listing answered with \(other)")
            }
        }
    }

    /// The next reply line, decoded; nil when relayd closed the connection.
    public func nextReply() throws(ControlClientError) -> ControlReply? {
        guard let line = try nextLine() else { return nil }
        return try reply(line)
    }

    private func reply(_ line: ArraySlice<UInt8>) throws(ControlClientError) -> ControlReply {
        do { return try ControlReply(json: try JSONParser.parse(line)) } catch {
            throw .malformedReply(error.message)
        }
    }

    /// The next reply line as it came (without its newline); nil when relayd closed the connection.
    public func nextLine() throws(ControlClientError) -> ArraySlice<UInt8>? {
        while true {
            let found = buffer.withUnsafeBufferPointer { bytes -> Int? in
                guard scanned < bytes.count else { return nil }
                return memchr(bytes.baseAddress! + scanned, 10, bytes.count - scanned).map { UnsafeRawPointer($0) - UnsafeRawPointer(bytes.baseAddress!) }
            }
            if let newline = found {
                let line = buffer[start..<newline]
                start = newline + 1
                scanned = start
                return line
            }
            scanned = buffer.count
            guard scanned - start <= ControlProtocol.maximumReplyLength else {
                throw .malformedReply("a reply line longer than \(ControlProtocol.maximumReplyLength) bytes")
            }
            if start > 0 {
                buffer.removeSubrange(..<start)
                scanned -= start
                start = 0
            }
            guard try receive() > 0 else {
                if buffer.isEmpty { return nil }
                throw .disconnected(path: path)
            }
        }
    }

    /// Receives what arrives within `replyTimeout` (0 at end of stream).
    private func receive() throws(ControlClientError) -> Int {
        guard fd >= 0 else { throw .disconnected(path: path) }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: replyTimeout.components.seconds * 1000 + replyTimeout.components.attoseconds / 1_000_000_000_000_000)
        while true {
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0, errno == EINTR { continue }
            if ready < 0 { throw .system(operation: "poll", path: path, errno: errno) }
            if ready == 0 { throw .timedOut(path: path, after: replyTimeout) }
            break
        }
        let chunk = 256 * 1024
        let before = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + before, chunk, 0) }
        buffer.removeLast(chunk - max(n, 0))
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { return try receive() }
            if errno == ECONNRESET { return 0 }
            throw .system(operation: "recv", path: path, errno: errno)
        }
        return n
    }

    private func write(_ bytes: [UInt8]) throws(ControlClientError) {
        guard fd >= 0 else { throw .disconnected(path: path) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { throw .disconnected(path: path) }
                throw .system(operation: "send", path: path, errno: errno)
            }
            offset += n
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Control
import Foundation
import Logging
import RelayTesting
import ServiceLifecycle
import Spool
import Threading
import Testing
import Transport

/// The control socket end to end: a real `ControlServer` on a Unix socket in a temporary directory, a real
/// `ControlClient` (or a raw socket, to send what relayctl never would), and a `FakeQueue` behind it.
@Suite("ControlServer and ControlClient")
struct ControlServerTests {
    /// Runs a server for `handler` while `body` runs, then cancels it (which also removes the socket).
    static func withServer<T>(
        _ handler: some ControlHandler, idleTimeout: Duration = .seconds(60), logs: LogRecorder? = nil,
        _ body: (String) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory(prefix: "mailrelay-control")
        let path = directory.appending("relayd/control.sock")
        let logger = Logger(label: "control") { _ in logs.map { $0 as any LogHandler } ?? SwiftLogNoOpLogHandler() }
        let server = try ControlServer(path: path, handler: handler, logger: logger, idleTimeout: idleTimeout)
        let running = Task { try await server.run() }
        defer { running.cancel() }
        let result = try await body(path)
        running.cancel()
        _ = await running.result
        #expect(access(path, F_OK) != 0, "the socket file is removed when the server stops")
        return result
    }

    static func entries(_ count: Int) -> [QueueEntry] {
        let generator = QueueIDGenerator()
        return (0..<count).map { index in
            var entry = QueueFilterTests.entry(index % 7 == 0 ? .held : .deferred, recipients: ["r\(index)@example.net"], age: index)
            entry.id = generator.next()
            return entry
        }
    }

    @Test func aListingOfTenThousandMessagesStreamsInOrderThenItsSummary() async throws {
        let queue = FakeQueue(entries: Self.entries(10_000))
        try await Self.withServer(queue) { path in
            let (listed, summary) = try await onDedicatedThread {
                let client = try ControlClient(path: path)
                var listed: [QueueEntry] = []
                let summary = try client.queue(.all) { listed.append($0) }
                return (listed, summary)
            }
            #expect(listed == queue.entries)
            #expect(summary.messages == 10_000)
            #expect(summary.counts.held == 1_429)

            let heldOnly = try await onDedicatedThread {
                try ControlClient(path: path).request(.queue(QueueFilter(states: [.held])))
            }
            guard case .summary(let heldSummary) = heldOnly else { throw ControlClientError.malformedReply("\(heldOnly)") }
            #expect(heldSummary.messages == 1_429)
            #expect(queue.requests == [.queue(.all), .queue(QueueFilter(states: [.held]))])
        }
    }

    @Test func everyRequestReachesTheHandlerAndGetsItsReply() async throws {
        let entries = Self.entries(3)
        let outcome = AttemptOutcome(id: entries[0].id, relay: "upstream[192.0.2.7]:587", recipients: [.init(address: "r0@example.net", status: .sent, reply: "250 ok")])
        let queue = FakeQueue(entries: entries, outcome: outcome)
        let logs = LogRecorder()
        try await Self.withServer(queue, logs: logs) { path in
            let missing = QueueID("0123456789ABC")!
            let replies = try await onDedicatedThread {
                let client = try ControlClient(path: path)
                return [
                    try client.request(.show(entries[1].id)),
                    try client.request(.hold([entries[0].id, missing])),
                    try client.request(.release([entries[0].id])),
                    try client.request(.flush(nil)),
                    try client.request(.delete([entries[2].id])),
                    try client.request(.deleteState(.held)),
                    try client.request(.stats),
                    try client.request(.awaitOutcome(entries[0].id, timeoutSeconds: 5)),
                    try client.request(.awaitOutcome(entries[1].id, timeoutSeconds: 1)),
                    try client.request(.reload),
                ]
            }
            guard case .detail(let detail) = replies[0] else { Issue.record("\(replies[0])"); return }
            #expect(detail.entry == entries[1])
            #expect(replies[1] == .changes(ChangeReport(items: [.init(id: entries[0].id, result: .done), .init(id: missing, result: .notFound, detail: "no such message")])))
            guard case .changes(let released) = replies[2] else { Issue.record("\(replies[2])"); return }
            #expect(released.count == 0 && released.items.first?.result == .unchanged)
            guard case .changes(let flushed) = replies[3] else { Issue.record("\(replies[3])"); return }
            #expect(flushed.count == 3)
            guard case .stats(let stats) = replies[6] else { Issue.record("\(replies[6])"); return }
            #expect(stats.lastHour == .init(delivered: 1, deferred: 2, bounced: 3))
            #expect(replies[7] == .outcome(outcome))
            #expect(replies[8] == .timedOut(entries[1].id, timeoutSeconds: 1))
            #expect(replies[9] == .reload(ReloadReport(result: .applied, applied: ["retry.first"], needsRestart: ["listen.smtp"])))
            #expect(queue.requests == [
                .show(entries[1].id), .hold([entries[0].id, missing]), .release([entries[0].id]), .flush(nil),
                .delete([entries[2].id]), .deleteState(.held), .stats, .awaitOutcome(entries[0].id, timeoutSeconds: 5),
                .awaitOutcome(entries[1].id, timeoutSeconds: 1), .reload,
            ])
            let changes = logs.records.filter { $0.level == .info && $0.message == "queue changed by relayctl" }
            #expect(changes.map { $0.metadata["command"] } == ["hold", "flush", "flush", "flush", "delete", "delete"].map { "\($0)" },
                    "each message changed is logged once at info; nothing is logged for what did not change")
            #expect(logs.records.contains { $0.level == .debug && $0.message == "control request" })
            #expect(logs.records.contains { $0.level == .info && $0.message == "configuration reload asked by relayctl" })
        }
    }

    @Test func badLinesGetBadRequestAndTheConnectionStaysUsable() async throws {
        let queue = FakeQueue(entries: Self.entries(2))
        try await Self.withServer(queue) { path in
            let socket = try await BlockingSocket.connect(unixPath: path)
            let lines = LineReader(socket)
            try await socket.send("this is not json\n")
            #expect(try await lines.next() == #"{"error":{"code":"bad_request","message":"invalid JSON at byte 0: unexpected character"}}"#)
            try await socket.send(#"{"v":1,"command":"reboot"}"# + "\n")
            #expect(try await lines.next() == #"{"error":{"code":"bad_request","message":"unknown command \"reboot\""}}"#)
            try await socket.send(#"{"v":7,"command":"stats"}"# + "\n")
            #expect(try await lines.next() == #"{"error":{"code":"bad_request","message":"protocol version 7 is not supported; this relayd speaks 1"}}"#)

            // Longer than 64 KiB: refused as soon as it is too long, the rest of the line skipped.
            try await socket.send(#"{"v":1,"command":"show","id":""# + String(repeating: "A", count: 70_000))
            #expect(try await lines.next() == #"{"error":{"code":"bad_request","message":"request line longer than 65536 bytes"}}"#)
            try await socket.send(String(repeating: "A", count: 10_000) + "\"}\n")

            // Pipelined: both answered, in order, on the same connection.
            try await socket.send(#"{"v":1,"command":"stats"}"# + "\n" + #"{"v":1,"command":"show","id":"0123456789ABC"}"# + "\r\n")
            #expect(try await lines.next()?.hasPrefix(#"{"stats":{"queue":{"messages":2,"#) == true)
            #expect(try await lines.next() == #"{"error":{"code":"not_found","message":"0123456789ABC: no such message in the queue"}}"#)
            #expect(queue.requests == [.stats, .show(QueueID("0123456789ABC")!)], "nothing malformed reached the handler")
        }
    }

    @Test func handlerFailuresBecomeErrorReplies() async throws {
        let entries = Self.entries(10)
        let queue = FakeQueue(entries: entries, failListingAfter: 4)
        try await Self.withServer(queue) { path in
            let missing = QueueID("0123456789ABC")!
            // The client blocks, so it runs on a thread of its own; its results are checked back here.
            let (listing, listed, raw, show, stats) = try await onDedicatedThread {
                let client = try ControlClient(path: path)
                var listed = 0
                let listing = Result { () throws(ControlClientError) in try client.queue(.all) { _ in listed += 1 } }
                let raw = Result { () throws(ControlClientError) in try client.request(.showRaw(entries[0].id)) }
                let show = Result { () throws(ControlClientError) in try client.request(.show(missing)) }
                return (listing, listed, raw, show, try client.request(.stats))
            }
            let diskError = ControlClientError.rejected(ControlError(.internal, "\(FakeQueue.diskError)"))
            #expect(throws: diskError) { try listing.get() }
            #expect(listed == 4, "a listing that fails midway ends with the error line instead of a summary")
            #expect(throws: diskError) { try raw.get() }
            #expect(throws: ControlClientError.rejected(.notFound(missing))) { try show.get() }
            #expect(stats.isFinal, "still usable after errors")
        }
    }

    @Test func anIdleConnectionIsClosed() async throws {
        try await Self.withServer(FakeQueue(), idleTimeout: .milliseconds(500)) { path in
            let socket = try await BlockingSocket.connect(unixPath: path)
            let started = ContinuousClock.now
            #expect(try await socket.receive() == [], "closed by the server")
            #expect(ContinuousClock.now - started >= .milliseconds(400))
        }
    }

    @Test func aClientGoneMidListingDoesNotStopTheServer() async throws {
        let queue = FakeQueue(entries: Self.entries(20_000))
        try await Self.withServer(queue) { path in
            let socket = try await BlockingSocket.connect(unixPath: path)
            try await socket.send(#"{"v":1,"command":"queue"}"# + "\n")
            _ = try await socket.receive(count: 1_000)
            socket.close()
            let stats = try await onDedicatedThread { try ControlClient(path: path).request(.stats) }
            #expect(stats.isFinal)
        }
    }

    @Test func gracefulShutdownEndsIdleConnectionsAndRemovesTheSocket() async throws {
        let directory = try TemporaryDirectory(prefix: "mailrelay-control")
        let path = directory.appending("control.sock")
        let logger = Logger(label: "control") { _ in SwiftLogNoOpLogHandler() }
        let server = try ControlServer(path: path, handler: FakeQueue(), logger: logger)
        let group = ServiceGroup(services: [server], logger: logger)
        let running = Task { try await group.run() }
        let socket = try await BlockingSocket.connect(unixPath: path)
        let lines = LineReader(socket)
        try await socket.send(#"{"v":1,"command":"stats"}"# + "\n")
        #expect(try await lines.next()?.hasPrefix(#"{"stats":"#) == true)

        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        #expect(try await lines.next() == nil, "an idle connection is closed at once")
        try await running.value
        #expect(ContinuousClock.now - started < .seconds(5), "no wait for the grace period: nothing was busy")
        #expect(access(path, F_OK) != 0)
        #expect(throws: ControlClientError.unreachable(path: path, errno: ENOENT)) { try ControlClient(path: path) }
    }

    @Test func anAbsentOrStaleSocketMeansRelaydIsNotRunning() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.appending("control.sock")
        #expect(throws: ControlClientError.unreachable(path: path, errno: ENOENT)) { try ControlClient(path: path) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        _ = try UnixSocketAddress(path: path).withSockaddr { bind(fd, $0, $1) }
        #expect(throws: ControlClientError.unreachable(path: path, errno: ECONNREFUSED)) { try ControlClient(path: path) }
        #expect("\(ControlClientError.unreachable(path: path, errno: ECONNREFUSED))"
            == "relayd is not running: nothing answers on \(path) (Connection refused)")
    }

    @Test func theReadOnlyViewServesARealSpoolOverTheSocket() async throws {
        try await withTemporarySpool { temp in
            let ids = [try await temp.spool.commitMessage(), try await temp.spool.commitMessage(sender: "")]
            let inspector = SpoolInspector(root: temp.root, io: SpoolInspectorTests.io)
            try await Self.withServer(inspector) { path in
                let (listed, summary, hold) = try await onDedicatedThread {
                    let client = try ControlClient(path: path)
                    var listed: [QueueID] = []
                    let summary = try client.queue(QueueFilter(from: "<>")) { listed.append($0.id) }
                    return (listed, summary, Result { () throws(ControlClientError) in try client.request(.hold(ids)) })
                }
                #expect(listed == [ids[1]] && summary.messages == 1)
                #expect(throws: ControlClientError.rejected(ControlError(.unavailable, "hold needs relayd, which is not running; start it and try again"))) {
                    try hold.get()
                }
            }
        }
    }
}

/// Reads a raw socket line by line.
final class LineReader: @unchecked Sendable {
    private let socket: BlockingSocket
    private var buffer: [UInt8] = []

    init(_ socket: BlockingSocket) { self.socket = socket }

    func next() async throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let chunk = try await socket.receive()
            if chunk.isEmpty { return nil }
            buffer += chunk
        }
    }
}

/// Keeps the log records a test's server writes.
struct LogRecorder: LogHandler {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let storage = Storage()
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    var records: [Record] { storage.records.withLock { $0 } }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }
        storage.records.withLock { $0.append(Record(level: event.level, message: "\(event.message)", metadata: merged)) }
    }

    private final class Storage: Sendable {
        let records = Locked<[Record]>([])
    }
}

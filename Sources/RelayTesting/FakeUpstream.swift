import FoundationEssentials
import Threading
import Transport

/// A scriptable SMTP server on loopback standing in for the upstream provider: STARTTLS or implicit TLS
/// with a test CA's certificate, AUTH PLAIN/LOGIN with a known password, and faults (temporary failures for
/// the first K transactions, permanent failures for chosen recipients, a connection dropped mid-DATA, a
/// stall, being down). It records every message and every command line so tests can state the whole dialogue.
public final class FakeUpstream: Sendable {
    /// How the fake behaves; each test sets what it needs.
    public struct Script: Sendable {
        public var hostname = "fake-upstream.test"
        /// Certificate for STARTTLS / implicit TLS; nil offers no TLS.
        public var tls: TLSContext?
        public var implicitTLS = false
        /// Refuse MAIL (530 5.7.0) until the session is secure.
        public var requireTLS = false
        /// `(username, password)` required before MAIL; nil advertises no AUTH.
        public var login: (username: String, password: String)?
        public var authMechanisms = ["PLAIN", "LOGIN"]
        public var pipelining = true
        /// Reply to MAIL for the first `temporaryFailures` transactions.
        public var temporaryFailures = 0
        public var temporaryFailureReply = "451 4.3.0 Try again later"
        /// RCPT replies for chosen recipients (the rest get 250).
        public var recipientReplies: [String: String] = [:]
        /// Close the connection after this many bytes of the DATA phase of the first N transactions.
        public var dropDuringData: (afterBytes: Int, times: Int)?
        /// Never send the greeting.
        public var stall = false
        /// A greeting other than 220 (e.g. `421 4.3.2 Service shutting down`), after which the fake hangs up.
        public var refusalGreeting: String?
        /// Say `421 4.4.2 … timeout` and hang up after this long without a command, as MTAs do to idle clients.
        public var idleTimeout: Duration?
        /// Hang up right after refusing DATA (no valid recipients), as some MTAs do.
        public var hangUpAfterRefusingData = false

        public init() {}
    }

    /// One message the fake accepted.
    public struct Message: Sendable, Equatable {
        public var sender: String
        public var recipients: [String]
        /// Dot-unstuffed, as the upstream would store it.
        public var data: [UInt8]
        public var secure: Bool
        public var login: String?
    }

    /// One command line the fake received, whether it arrived under TLS, and when (epoch seconds).
    public struct Command: Sendable, Equatable {
        public var line: String
        public var secure: Bool
        public var at: Double
    }

    private struct Record {
        var messages: [Message] = []
        var commands: [Command] = []
        var connections = 0
        var transactions = 0
        var drops = 0
    }

    public let port: UInt16
    let script: Script
    private let listener: TCPListener
    private let record = Locked(Record())
    private let acceptTask = Locked<Task<Void, Never>?>(nil)
    /// Open connections, so `stop()` can end them as a crashing upstream would.
    private let live = Locked<[ObjectIdentifier: TCPConnection]>([:])

    /// Starts listening on 127.0.0.1 (`port` 0 picks a free one).
    public init(script: Script, port: UInt16 = 0) throws {
        self.script = script
        listener = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: port))
        self.port = listener.address.port
        let task = Task { [self] in await self.acceptLoop() }
        acceptTask.withLock { $0 = task }
    }

    deinit { listener.close() }

    /// Stops accepting and ends every open connection.
    public func stop() {
        listener.close()
        acceptTask.withLock { $0?.cancel() }
        for connection in live.withLock({ Array($0.values) }) { connection.interruptReads() }
    }

    /// A loopback port nothing listens on (it was free a moment ago): an upstream that is down.
    public static func closedPort() throws -> UInt16 {
        let probe = try TCPListener(address: ListenAddress(host: "127.0.0.1", port: 0))
        defer { probe.close() }
        return probe.address.port
    }

    public var messages: [Message] { record.withLock { $0.messages } }
    public var commands: [Command] { record.withLock { $0.commands } }
    public var connectionCount: Int { record.withLock { $0.connections } }

    private func acceptLoop() async {
        while let connection = try? await listener.accept() {
            record.withLock { $0.connections += 1 }
            Task { await self.serve(connection) }
        }
    }

    private func serve(_ connection: TCPConnection) async {
        let key = ObjectIdentifier(connection)
        live.withLock { $0[key] = connection }
        defer { live.withLock { _ = $0.removeValue(forKey: key) } }
        var session = FakeUpstreamSession(fake: self, stream: connection, secure: false)
        if script.implicitTLS, let tls = script.tls {
            guard let secured = try? await TLSConnection.accept(over: connection, context: tls, deadline: .now + .seconds(10)) else {
                connection.close()
                return
            }
            session = FakeUpstreamSession(fake: self, stream: secured, secure: true)
        }
        await session.run()
    }

    func noteCommand(_ line: String, secure: Bool) {
        let now = Date().timeIntervalSince1970
        record.withLock { $0.commands.append(Command(line: line, secure: secure, at: now)) }
    }

    /// Counts a transaction and says whether it should fail temporarily.
    func beginTransaction() -> Bool {
        record.withLock { r in
            r.transactions += 1
            return r.transactions <= script.temporaryFailures
        }
    }

    /// Whether this DATA phase should be cut off.
    func shouldDrop() -> Bool {
        guard let drop = script.dropDuringData else { return false }
        return record.withLock { r in
            guard r.drops < drop.times else { return false }
            r.drops += 1
            return true
        }
    }

    func accept(_ message: Message) {
        record.withLock { $0.messages.append(message) }
    }
}

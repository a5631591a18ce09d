import Logging
import ServiceLifecycle
import SMTPProtocol
import Spool
import Synchronization
import Threading
import Transport

/// The SMTP listener as a service: accepts clients, enforces `max_connections`, runs a session per client.
///
/// Listeners are bound in `init`, so an address in use fails start-up instead of a later task. On graceful
/// shutdown the listeners close first; sessions waiting for a command get 421 at once, sessions in the middle
/// of a message finish it (up to `shutdownGrace`), then are cut off with 421.
public final class SMTPServer: Service, Sendable {
    /// Changed by `reconfigure`; each session keeps the configuration it started with.
    private let settings: Locked<SMTPServerConfiguration>
    public var configuration: SMTPServerConfiguration { settings.withLock { $0 } }
    private let spool: Spool
    private let logger: Logger
    /// Each listener, and whether it speaks TLS from the first byte.
    private let listeners: [(listener: TCPListener, implicitTLS: Bool)]
    private let active = Atomic<Int>(0)
    private let accepting = Atomic(false)
    private let registry = ConnectionRegistry()
    private let metrics: ReceivingMetrics
    private let limits: InboundLimits

    public init(
        configuration: SMTPServerConfiguration, spool: Spool, logger: Logger, metrics: ReceivingMetrics = ReceivingMetrics()
    ) throws {
        self.settings = Locked(configuration)
        self.limits = InboundLimits(configuration)
        self.spool = spool
        self.logger = logger
        self.metrics = metrics
        listeners = try configuration.listen.map { (try TCPListener(address: $0), false) }
            + configuration.listenTLS.map { (try TCPListener(address: $0), true) }
    }

    /// Uses `configuration` for sessions that start from now on (a configuration reload): relay policy,
    /// limits, timeouts, host name, TLS certificate. Sessions in progress finish under the settings they
    /// started with. The listen addresses and the shutdown grace stay as they were: the listeners are bound
    /// once.
    public func reconfigure(_ configuration: SMTPServerConfiguration) {
        settings.withLock { current in
            var updated = configuration
            updated.listen = current.listen
            updated.listenTLS = current.listenTLS
            updated.shutdownGrace = current.shutdownGrace
            current = updated
        }
        limits.update(configuration)
    }

    /// The addresses actually bound (port 0 resolved): the plain listeners, then the implicit-TLS ones.
    public var boundAddresses: [ListenAddress] { listeners.map(\.listener.address) }

    /// Sessions in progress.
    public var activeSessions: Int { active.load(ordering: .relaxed) }

    /// Whether the listeners are accepting: from the start of `run` until graceful shutdown closes them.
    public var isAccepting: Bool { accepting.load(ordering: .acquiring) }

    public func run() async throws {
        for (listener, implicitTLS) in listeners {
            logger.info("listening", metadata: ["address": "\(listener.address)", "tls": "\(implicitTLS ? "implicit" : "starttls")"])
        }
        accepting.store(true, ordering: .releasing)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for (listener, implicitTLS) in listeners {
                    group.addTask(executorPreference: EventLoop.shared) { await self.serve(listener, implicitTLS: implicitTLS) }
                }
            }
        } onGracefulShutdown: {
            self.accepting.store(false, ordering: .releasing)
            for (listener, _) in self.listeners { listener.close() }
            self.registry.drain()
        }
        accepting.store(false, ordering: .releasing)
        logger.info("smtp listener stopped")
    }

    /// Accepts on one listener until it is closed, then waits (bounded) for its sessions.
    private func serve(_ listener: TCPListener, implicitTLS: Bool) async {
        await withDiscardingTaskGroup { sessions in
            for await connection in listener.connections {
                let configuration = self.configuration
                if active.add(1, ordering: .relaxed).newValue > configuration.maxConnections {
                    active.subtract(1, ordering: .relaxed)
                    metrics.countRejection(.maxConnections)
                    if !implicitTLS {  // a TLS client would read plain text as a broken handshake
                        connection.writeWithoutWaiting(
                            SMTPReply(421, .init(4, 7, 0), "\(configuration.hostname) Error: too many connections").wireBytes)
                    }
                    connection.close()
                    logger.warning("connection refused: max_connections reached", metadata: [
                        "client": "\(connection.peer.host)", "limit": "\(configuration.maxConnections)"])
                    continue
                }
                if !limits.connections.admit(connection.peer.host) {
                    active.subtract(1, ordering: .relaxed)
                    metrics.countRejection(.connectionRate)
                    if !implicitTLS {
                        connection.writeWithoutWaiting(SMTPReply(
                            421, .init(4, 7, 0), "\(configuration.hostname) Error: too many connections from your address").wireBytes)
                    }
                    connection.close()
                    logger.warning("connection refused: inbound.rate.connections_per_minute reached", metadata: [
                        "client": "\(connection.peer.host)", "limit": "\(configuration.connectionsPerMinute)"])
                    continue
                }
                // Sessions run on the event loop thread: readiness resumes them without a thread hop.
                sessions.addTask(executorPreference: EventLoop.shared) {
                    var inbound = InboundConnection(
                        connection: connection, configuration: configuration, implicitTLS: implicitTLS, spool: self.spool,
                        registry: self.registry, limits: self.limits, metrics: self.metrics, logger: self.logger)
                    await inbound.run()
                    self.active.subtract(1, ordering: .relaxed)
                }
            }
            // Listener closed: give sessions their grace, then cancel what is left.
            let deadline = ContinuousClock.now + self.configuration.shutdownGrace
            while active.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            sessions.cancelAll()
        }
    }
}

import Logging
import ServiceLifecycle
import Transport

/// The control socket as a service: accepts relayctl connections on a Unix socket (mode 0600) and serves
/// each in a task of its own (`ControlSession`), answering through a `ControlHandler`.
///
/// The socket is created in `init`, so a path in use fails start-up rather than a later task. On graceful
/// shutdown the socket closes (and its file is removed), idle connections end at once, and a connection in
/// the middle of an answer gets `shutdownGrace` to finish it before it is cancelled.
///
/// Sessions run on the global executor, not on the event loop as SMTP sessions do: a listing encodes a
/// hundred thousand entries in one go, and that work must not hold up every SMTP session on the loop thread;
/// for a handful of operator connections, the thread hop per read costs nothing that matters.
public final class ControlServer: Service, Sendable {
    public let path: String
    private let listener: UnixListener
    private let handler: any ControlHandler
    private let logger: Logger
    private let idleTimeout: Duration
    private let shutdownGrace: Duration
    private let registry = ConnectionRegistry()

    /// Creates the socket at `path` (see `UnixListener` for what an existing file there means).
    public init(
        path: String, handler: some ControlHandler, logger: Logger,
        idleTimeout: Duration = ControlProtocol.idleTimeout, shutdownGrace: Duration = .seconds(5)
    ) throws(TransportError) {
        listener = try UnixListener(path: path)
        self.path = path
        self.handler = handler
        self.logger = logger
        self.idleTimeout = idleTimeout
        self.shutdownGrace = shutdownGrace
    }

    public func run() async throws {
        logger.info("control socket listening", metadata: ["path": "\(path)"])
        await withGracefulShutdownHandler {
            await serve()
        } onGracefulShutdown: {
            self.listener.close()
            self.registry.drain()
        }
        listener.close()
        logger.info("control socket closed", metadata: ["path": "\(path)"])
    }

    /// Accepts until the listener closes (or the task is cancelled), then waits (bounded) for the sessions.
    private func serve() async {
        await withDiscardingTaskGroup { sessions in
            for await connection in listener.connections {
                sessions.addTask {
                    await ControlSession(
                        connection: connection, handler: self.handler, registry: self.registry,
                        idleTimeout: self.idleTimeout, logger: self.logger
                    ).run()
                }
            }
            let deadline = ContinuousClock.now + shutdownGrace
            while registry.count > 0, ContinuousClock.now < deadline, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
            }
            sessions.cancelAll()
        }
    }
}

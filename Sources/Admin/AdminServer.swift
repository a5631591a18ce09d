import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import Transport

/// The admin HTTP endpoint as a service: `/livez`, `/readyz` and `/metrics` over plain HTTP/1.1 on our own
/// epoll I/O, one request per connection.
///
/// Each connection gets `requestTimeout` to send its request head; it is answered, its sending side closed,
/// and the socket closed once the client has gone (or after a short linger). At most `maxConnections` are
/// served at once; more get 503 without being read, so a flood of scrapes cannot take descriptors from SMTP.
///
/// The listener is bound in `init`, so an address in use fails start-up. relayd lists this service first in
/// its group so it stops last: it keeps answering (with `/readyz` failing, see `DrainNotice`) while the SMTP
/// listener and deliveries wind down, and closes on its own graceful shutdown.
public final class AdminServer: Service, Sendable {
    public static let defaultMaxConnections = 64
    public static let defaultRequestTimeout: Duration = .seconds(5)
    /// How long a closed-for-writing connection is read (and discarded) waiting for the client to close.
    static let linger: Duration = .seconds(1)

    private let listener: TCPListener
    private let registry: PrometheusCollectorRegistry
    private let readiness: @Sendable () -> Readiness
    private let beforeScrape: @Sendable () async -> Void
    private let logger: Logger
    private let maxConnections: Int
    private let requestTimeout: Duration
    private let active = Atomic<Int>(0)

    /// Binds `address`. `readiness` answers `/readyz`; `beforeScrape` runs before each `/metrics`, to set the
    /// gauges that are computed rather than counted (queue sizes, open sessions); `registry` is emitted.
    public init(
        address: ListenAddress, registry: PrometheusCollectorRegistry, logger: Logger,
        readiness: @escaping @Sendable () -> Readiness,
        beforeScrape: @escaping @Sendable () async -> Void = {},
        maxConnections: Int = AdminServer.defaultMaxConnections,
        requestTimeout: Duration = AdminServer.defaultRequestTimeout
    ) throws {
        listener = try TCPListener(address: address, backlog: 128)
        self.registry = registry
        self.readiness = readiness
        self.beforeScrape = beforeScrape
        self.logger = logger
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
    }

    /// The address actually bound (port 0 resolved).
    public var address: ListenAddress { listener.address }

    public func run() async throws {
        logger.info("admin endpoint listening", metadata: ["address": "\(listener.address)"])
        await withGracefulShutdownHandler {
            await serve()
        } onGracefulShutdown: {
            self.listener.close()
        }
        listener.close()
        logger.info("admin endpoint closed")
    }

    /// Accepts until the listener closes or the task is cancelled; connections in progress end within their
    /// own deadlines.
    private func serve() async {
        await withDiscardingTaskGroup { connections in
            for await connection in listener.connections {
                if active.add(1, ordering: .relaxed).newValue > maxConnections {
                    active.subtract(1, ordering: .relaxed)
                    connection.writeWithoutWaiting(HTTPResponse.text(.serviceUnavailable, "too many admin connections").wireBytes())
                    connection.close()
                    logger.warning("admin connection refused: too many at once", metadata: ["limit": "\(maxConnections)"])
                    continue
                }
                connections.addTask {
                    await self.answer(connection)
                    self.active.subtract(1, ordering: .relaxed)
                }
            }
        }
    }

    /// Reads one request head, answers it, closes.
    private func answer(_ connection: TCPConnection) async {
        defer { connection.close() }
        let deadline = ContinuousClock.now + requestTimeout
        var parser = HTTPRequestParser()
        let response: HTTPResponse
        var includeBody = true
        do {
            var head: HTTPRequestHead?
            while head == nil {
                let n = try await connection.read(deadline: deadline) { parser.append($0) }
                head = try parser.parse()
                if head == nil, n == 0 { return }  // the client went away mid-head: no one to answer
            }
            switch AdminRoute(head!) {
            case .refuse(let refusal, let withBody):
                response = refusal
                includeBody = withBody
            case .serve(let endpoint, let withBody):
                response = await self.response(for: endpoint)
                includeBody = withBody
            }
        } catch let error as HTTPParseError {
            logger.debug("bad admin request", metadata: ["client": "\(connection.peer.host)", "reason": "\(error)"])
            response = .text(.badRequest, "bad request: \(error)")
        } catch TransportError.timedOut {
            response = .text(.requestTimeout, "request head not received within \(requestTimeout)")
        } catch {
            logger.debug("admin connection ended", metadata: ["reason": "\(error)"])
            return
        }
        do {
            try await connection.write(response.wireBytes(includingBody: includeBody), deadline: deadline + requestTimeout)
            connection.shutdownWrite()
            // Lingering close: read until the client closes, so unread request bytes do not turn our close
            // into a reset that could destroy the response before the client read it.
            let lingerDeadline = ContinuousClock.now + Self.linger
            var drained = 0
            while drained < 1 << 20 {
                let n = try await connection.read(deadline: lingerDeadline) { _ in }
                if n == 0 { break }
                drained += n
            }
        } catch {
            logger.debug("admin connection ended", metadata: ["reason": "\(error)"])
        }
    }

    private func response(for endpoint: AdminEndpoint) async -> HTTPResponse {
        switch endpoint {
        case .livez:
            return .text(.ok, "ok")
        case .readyz:
            switch readiness() {
            case .ready: return .text(.ok, "ready")
            case .notReady(let reason): return .text(.serviceUnavailable, "not ready: \(reason)")
            }
        case .metrics:
            await beforeScrape()
            return HTTPResponse(
                status: .ok, fields: [.init(name: "Content-Type", value: AdminServer.metricsContentType)],
                body: registry.emitToBuffer())
        }
    }

    /// Prometheus' text exposition format, version 0.0.4.
    public static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
}

import Logging
import SMTPProtocol
import ServiceLifecycle
import Synchronization

/// Relays messages to the upstream smarthost over a small pool of reusable SMTP sessions.
///
/// A delivery takes an idle session or opens one; after the transaction the session goes back to the pool
/// and is closed (QUIT) once it has been idle for `idleTimeout`. As a service it does that reaping and says
/// QUIT to everything idle at shutdown; it is stopped after the queue runner, whose workers hold the busy
/// sessions.
public final class UpstreamTransport: DeliveryTransport, Service {
    private let configuration: UpstreamConfiguration
    private let logger: Logger
    private let idle = Mutex<[UpstreamSession]>([])
    private let health = Mutex(UpstreamHealth())

    public var name: String { "upstream \(configuration.endpoint)" }

    public init(configuration: UpstreamConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func deliver(_ message: OutboundMessage) async -> DeliveryReport {
        let envelope = message.envelope
        let transaction = ClientTransaction(
            sender: envelope.sender, recipients: message.recipients, size: message.body.count,
            eightBitMIME: envelope.eightBitMIME, smtputf8: envelope.smtputf8)
        var stuffer = DotStuffer()
        var stuffed: [UInt8] = []
        stuffed.reserveCapacity(message.body.count + message.body.count / 64 + 8)
        stuffer.stuff(message.body, into: &stuffed)
        stuffer.finish(into: &stuffed)

        // A pooled session may have been dropped by the upstream while idle; that shows as a failure before
        // any reply to our MAIL, when nothing of the message has been accepted, so a fresh session may retry.
        var pooled = takeIdle()
        while true {
            let session: UpstreamSession
            let reused = pooled != nil
            if let taken = pooled {
                session = taken
                pooled = nil
            } else {
                if let suspended = health.withLock({ $0.suspension(at: .now) }) {
                    return DeliveryReport(relay: configuration.endpoint, recipients: message.recipients, outcome: .deferred(suspended))
                }
                do {
                    session = try await UpstreamSession.open(configuration)
                    health.withLock { $0.recordSuccess() }
                } catch {
                    health.withLock { $0.recordFailure("\(error)", at: .now) }
                    logFailedConnection(error, id: envelope.id.description)
                    return DeliveryReport(
                        relay: relay(of: error), recipients: message.recipients, outcome: .deferred("\(error)"))
                }
            }
            do {
                let result = try await session.deliver(transaction, stuffedBody: stuffed)
                if session.isUsable { putIdle(session) } else { session.close() }
                return Self.report(result, relay: session.relay)
            } catch {
                if reused, session.repliesInTransaction == 0 { continue }
                return DeliveryReport(relay: session.relay, recipients: message.recipients, outcome: .deferred("\(error)"))
            }
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                await self.closeIdle(olderThan: self.configuration.idleTimeout)
            }
        }
        await closeIdle(olderThan: .zero)
    }

    /// Says QUIT to sessions idle for at least `age`.
    public func closeIdle(olderThan age: Duration) async {
        let now = ContinuousClock.now
        let expired = idle.withLock { sessions -> [UpstreamSession] in
            let expired = sessions.filter { now - $0.idleSince >= age }
            sessions.removeAll { now - $0.idleSince >= age }
            return expired
        }
        for session in expired { await session.quit() }
    }

    private func takeIdle() -> UpstreamSession? {
        idle.withLock { $0.popLast() }
    }

    private func putIdle(_ session: UpstreamSession) {
        // Never more idle sessions than workers could use; a surplus one is closed at once.
        let surplus = idle.withLock { sessions -> UpstreamSession? in
            guard sessions.count < configuration.connections else { return session }
            sessions.append(session)
            return nil
        }
        surplus?.close()
    }

    private func relay(of failure: UpstreamFailure) -> String {
        switch failure {
        case .connect(let endpoint, _): return endpoint
        case .tls(let relay, _), .session(let relay, _), .lost(let relay, _): return relay
        }
    }

    /// One line per failed connection attempt; a refused login is a configuration problem and says so.
    private func logFailedConnection(_ failure: UpstreamFailure, id: String) {
        var metadata: Logger.Metadata = ["id": "\(id)", "relay": "\(relay(of: failure))", "error": "\(failure)"]
        if case .session(_, .authenticationFailed) = failure {
            metadata["hint"] = "check upstream.username and upstream.password_file"
            logger.error("upstream refused our credentials", metadata: metadata)
        } else {
            logger.warning("cannot use upstream", metadata: metadata)
        }
    }

    /// Per recipient: 2xx delivered, 5xx failed for good, anything else tried again later.
    static func report(_ result: ClientTransactionResult, relay: String) -> DeliveryReport {
        var outcomes: [String: RecipientOutcome] = [:]
        for (recipient, reply) in zip(result.transaction.recipients, result.replies) {
            let text = reply.description
            outcomes[recipient] = reply.isPositive ? .delivered(text) : reply.isPermanent ? .failed(text) : .deferred(text)
        }
        return DeliveryReport(relay: relay, outcomes: outcomes)
    }
}

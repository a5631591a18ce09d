import FoundationEssentials
import Logging
import SMTPProtocol
import ServiceLifecycle
import Threading

/// Relays messages to the upstream smarthost over a small pool of reusable SMTP sessions.
///
/// A delivery takes an idle session or opens one; after the transaction the session goes back to the pool
/// and is closed (QUIT) once it has been idle for `idleTimeout`. As a service it does that reaping and says
/// QUIT to everything idle at shutdown; it is stopped after the queue runner, whose workers hold the busy
/// sessions.
///
/// Fallback upstreams (as Postfix's smtp_fallback_relay) are tried in order when no usable session can be
/// opened with the ones before: unreachable, TLS or login failing, or refusing us at the greeting. A reply
/// about the message itself (a 4xx to MAIL or RCPT) is the upstream's answer and is not retried elsewhere.
public final class UpstreamTransport: DeliveryTransport, Service {
    /// One upstream with its own health, so an outage of the primary sends new sessions to the fallback.
    private final class Endpoint: Sendable {
        let configuration: UpstreamConfiguration
        let health = Locked(UpstreamHealth())
        init(configuration: UpstreamConfiguration) { self.configuration = configuration }
    }

    /// The upstreams in force and their number: a reload replaces both, and sessions opened under an older
    /// generation (old password, old CA) are closed instead of going back to the pool.
    private struct Endpoints {
        var list: [Endpoint]
        var generation: Int
    }

    /// An idle session and the generation of the configuration it was opened with.
    private struct PooledSession {
        let session: UpstreamSession
        let generation: Int
    }

    private let endpoints: Locked<Endpoints>
    private let logger: Logger
    private let metrics: UpstreamMetrics
    private let idle = Locked<[PooledSession]>([])
    private var current: Endpoints { endpoints.withLock { $0 } }
    private var configuration: UpstreamConfiguration { current.list[0].configuration }

    public var name: String {
        let list = current.list
        return "upstream \(list[0].configuration.endpoint)" + (list.count > 1 ? " (+\(list.count - 1) fallback)" : "")
    }

    public init(
        configuration: UpstreamConfiguration, fallbacks: [UpstreamConfiguration] = [], logger: Logger,
        metrics: UpstreamMetrics = UpstreamMetrics()
    ) {
        self.endpoints = Locked(Endpoints(list: ([configuration] + fallbacks).map { Endpoint(configuration: $0) }, generation: 0))
        self.logger = logger
        self.metrics = metrics
    }

    /// Uses new upstream settings from the next session on (a configuration reload): sessions in the middle
    /// of a message finish it and are then closed, idle ones are closed now (QUIT, in the background). Health
    /// starts afresh, so an upstream suspended for refusing the old password is tried again at once.
    public func reconfigure(configuration: UpstreamConfiguration, fallbacks: [UpstreamConfiguration] = []) {
        endpoints.withLock {
            $0 = Endpoints(list: ([configuration] + fallbacks).map { Endpoint(configuration: $0) }, generation: $0.generation + 1)
        }
        let stale = idle.withLock { sessions -> [PooledSession] in
            defer { sessions.removeAll() }
            return sessions
        }
        guard !stale.isEmpty else { return }
        Task { for pooled in stale { await pooled.session.quit() } }
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
        // any reply to our MAIL, or a 421 in its place, when nothing of the message has been accepted, so a
        // fresh session may retry.
        var pooled = takeIdle()
        while true {
            let session: UpstreamSession
            let generation: Int
            let reused = pooled != nil
            if let taken = pooled {
                (session, generation) = (taken.session, taken.generation)
                pooled = nil
            } else {
                switch await openSession(id: envelope.id.description) {
                case .success(let opened): (session, generation) = opened
                case .failure(let failure):
                    return DeliveryReport(relay: failure.relay, recipients: message.recipients, outcome: .deferred(failure.reason))
                }
            }
            do {
                let result = try await session.deliver(transaction, stuffedBody: stuffed)
                if session.isUsable { await putIdle(PooledSession(session: session, generation: generation)) } else { session.close() }
                return Self.report(result, relay: session.relay)
            } catch {
                if reused, Self.upstreamDroppedIdleSession(error, repliesInTransaction: session.repliesInTransaction) {
                    continue
                }
                metrics.countFailure(error)
                return DeliveryReport(relay: session.relay, recipients: message.recipients, outcome: .deferred("\(error)"))
            }
        }
    }

    /// Why no upstream could be used: the relay tried last and every endpoint's reason.
    private struct OpenFailure: Error {
        var relay: String
        var reason: String
    }

    /// A fresh session with the first endpoint that gives one, skipping endpoints suspended after a failure;
    /// with the generation of the configuration it was opened under.
    private func openSession(id: String) async -> Result<(UpstreamSession, Int), OpenFailure> {
        var reasons: [String] = []
        let current = self.current
        var lastRelay = current.list[0].configuration.endpoint
        for endpoint in current.list {
            if let (suspended, relay) = endpoint.health.withLock({ health in
                health.suspension(at: .now).map { ($0, health.lastFailureRelay) }
            }) {
                reasons.append(suspended)
                lastRelay = relay ?? endpoint.configuration.endpoint
                continue
            }
            do {
                let session = try await UpstreamSession.open(endpoint.configuration)
                endpoint.health.withLock { $0.recordSuccess() }
                return .success((session, current.generation))
            } catch {
                endpoint.health.withLock {
                    $0.recordFailure("\(error)", relay: relay(of: error), at: .now, timestamp: Date().timeIntervalSince1970)
                }
                logFailedConnection(error, id: id)
                metrics.countFailure(error)
                reasons.append("\(error)")
                lastRelay = relay(of: error)
            }
        }
        return .failure(OpenFailure(relay: lastRelay, reason: reasons.joined(separator: "; then ")))
    }

    public func endSuspension() async {
        for endpoint in current.list { endpoint.health.withLock { $0.endSuspension() } }
    }

    /// The primary upstream's health: a fallback being used is not the primary being back.
    public func status() async -> UpstreamStatus? {
        let primary = current.list[0]
        let health = primary.health.withLock { $0 }
        return UpstreamStatus(
            endpoint: primary.configuration.endpoint, reachable: health.reachable, lastError: health.lastFailure,
            lastErrorAt: health.lastFailureAt)
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
        let expired = idle.withLock { sessions -> [PooledSession] in
            let expired = sessions.filter { now - $0.session.idleSince >= age }
            sessions.removeAll { now - $0.session.idleSince >= age }
            return expired
        }
        for pooled in expired { await pooled.session.quit() }
    }

    /// The most recently pooled session of the current generation. One of an older generation can be here
    /// only when a reload came between its transaction's end and its return to the pool; it is closed.
    private func takeIdle() -> PooledSession? {
        let generation = current.generation
        let (fresh, stale) = idle.withLock { sessions -> (PooledSession?, [PooledSession]) in
            var stale: [PooledSession] = []
            while let last = sessions.popLast() {
                if last.generation == generation { return (last, stale) }
                stale.append(last)
            }
            return (nil, stale)
        }
        if !stale.isEmpty { Task { for pooled in stale { await pooled.session.quit() } } }
        return fresh
    }

    /// Pools a session after its transaction, unless a reload has replaced its configuration meanwhile.
    private func putIdle(_ pooled: PooledSession) async {
        let current = self.current
        // Never more idle sessions than workers could use; a surplus one is closed at once.
        let kept = pooled.generation == current.generation && idle.withLock { sessions -> Bool in
            guard sessions.count < current.list[0].configuration.connections else { return false }
            sessions.append(pooled)
            return true
        }
        guard !kept else { return }
        if pooled.generation == current.generation { pooled.session.close() } else { await pooled.session.quit() }
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

    /// Whether a pooled session failed before the upstream said anything about the message: no reply at all
    /// (it closed while we were idle), or a 421 as the first reply (its idle timeout, announced). Nothing of
    /// the message can have been accepted, so a fresh session may try at once.
    private static func upstreamDroppedIdleSession(_ failure: UpstreamFailure, repliesInTransaction: Int) -> Bool {
        if repliesInTransaction == 0 { return true }
        if repliesInTransaction == 1, case .session(_, .serviceClosing) = failure { return true }
        return false
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

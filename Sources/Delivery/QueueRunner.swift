import FoundationEssentials
import Logging
import ServiceLifecycle
import Spool
import Threading
import Transport

/// Takes messages from the spool and delivers them through a transport with a pool of workers, recording
/// every outcome back into the spool. Learns of new mail from the spool's hints and, as a safety net and
/// for retries, from a periodic scan.
public final class QueueRunner: Service, Sendable {
    /// Worker count, retry policy and scan cadence.
    public struct Configuration: Sendable {
        public var workers: Int
        public var retry: RetryPolicy
        /// How often the whole spool is rescanned; hints make new mail go out sooner than this.
        public var scanInterval: Duration
        /// The host name bounces are reported from; nil when bounces are off (`bounces: none`): failed
        /// recipients are then only logged.
        public var bounceReportingHost: String?
        /// How long messages with failed recipients stay in `failed/` for operators to inspect.
        public var failedRetention: Duration
        /// Where the workers run: the event loop of the upstream connections (`UpstreamConfiguration.loop`),
        /// so their socket waits resume them on the same thread; nil runs them on the global pool.
        public var executor: EventLoop?
        /// At shutdown, how long to keep delivering the queue (everything waiting is tried at once) before
        /// stopping; zero stops after the attempts in flight (`shutdown.drain`).
        public var drain: Duration

        public init(
            workers: Int, retry: RetryPolicy, scanInterval: Duration = .seconds(60), bounceReportingHost: String? = nil,
            failedRetention: Duration = .seconds(7 * 86_400), executor: EventLoop? = nil, drain: Duration = .zero
        ) {
            self.workers = workers
            self.retry = retry
            self.scanInterval = scanInterval
            self.bounceReportingHost = bounceReportingHost
            self.failedRetention = failedRetention
            self.executor = executor
            self.drain = drain
        }
    }

    let spool: Spool
    let transport: any DeliveryTransport
    /// Changed by `reconfigure` (a configuration reload) while workers read it.
    private let settings: Locked<Configuration>
    var configuration: Configuration { settings.withLock { $0 } }
    let logger: Logger
    let index = QueueIndex()
    /// The last attempts' outcomes, for `relayctl send-test`.
    let recentAttempts = AttemptHistory()
    /// The last hour's recipient outcomes, for `relayctl stats`.
    let counters = Locked(DeliveryCounters())
    let metrics: DeliveryMetrics

    public init(
        spool: Spool, transport: any DeliveryTransport, configuration: Configuration, logger: Logger,
        metrics: DeliveryMetrics = DeliveryMetrics()
    ) {
        self.spool = spool
        self.transport = transport
        self.settings = Locked(configuration)
        self.logger = logger
        self.metrics = metrics
    }

    /// Takes the retry policy, bounce reporting and drain time of `configuration` from the next attempt
    /// on (a configuration reload); messages already waiting keep the retry time they were given. The
    /// worker count, executor and scan cadence are fixed for the runner's life.
    public func reconfigure(_ configuration: Configuration) {
        settings.withLock {
            $0.retry = configuration.retry
            $0.bounceReportingHost = configuration.bounceReportingHost
            $0.drain = configuration.drain
        }
    }

    /// Queues what a recovery or scan found; messages already known are left alone.
    public func enqueue(_ messages: [QueuedMessage]) async {
        let now = Date().timeIntervalSince1970
        for message in messages where !message.state.held {
            await index.offer(message.id, dueAt: message.state.nextAttemptAt, now: now)
        }
    }

    public func run() async throws {
        // Workers wait inside the index; cancellation (a ServiceGroup escalating) must close it like a
        // graceful shutdown does, or run() would never return.
        await withTaskCancellationHandler {
            await runUntilClosed()
        } onCancel: {
            Task { await self.index.close() }
        }
    }

    private func runUntilClosed() async {
        let configuration = self.configuration
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { feeders in
                feeders.addTask(executorPreference: configuration.executor) { await self.followHints() }
                feeders.addTask { await self.releaseAndScan() }
                // Workers finish their current delivery and end once the index closes at shutdown.
                await withDiscardingTaskGroup { workers in
                    for _ in 0..<max(configuration.workers, 1) {
                        workers.addTask(executorPreference: configuration.executor) { await self.work() }
                    }
                }
                feeders.cancelAll()
            }
        } onGracefulShutdown: {
            Task { await self.drainThenClose() }
        }
        logger.info("queue runner stopped")
    }

    /// At shutdown: with a drain time, every waiting message is made due and the workers go on until the
    /// queue is empty or the time is up (receiving has stopped by then: it shuts down first); then the index
    /// closes and the workers end after their attempts in flight. Held messages stay held.
    private func drainThenClose() async {
        let drain = configuration.drain
        if drain > .zero {
            await index.flush()
            let deadline = ContinuousClock.now + drain
            let queued = await index.counts.known
            logger.notice("draining the queue before exit", metadata: ["messages": "\(queued)", "for": "\(drain)"])
            while ContinuousClock.now < deadline {
                guard await index.counts.known > 0 else { break }
                try? await Task.sleep(for: .milliseconds(100))
            }
            let left = await index.counts.known
            if left == 0 {
                logger.notice("queue drained")
            } else {
                logger.warning("drain time over; messages stay queued", metadata: ["left": "\(left)"])
            }
        }
        await index.close()
    }

    private func followHints() async {
        for await id in spool.newMail {
            await index.offer(id, dueAt: 0, now: Date().timeIntervalSince1970)
        }
    }

    private func releaseAndScan() async {
        let configuration = self.configuration
        var nextScan = ContinuousClock.now + configuration.scanInterval
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            await index.releaseDue(now: Date().timeIntervalSince1970)
            if ContinuousClock.now >= nextScan {
                nextScan = ContinuousClock.now + configuration.scanInterval
                await purgeFailed()
                do {
                    let (messages, quarantined) = try await spool.scan()
                    for problem in quarantined { logger.error("quarantined", metadata: ["reason": "\(problem)"]) }
                    await enqueue(messages)
                } catch {
                    logger.error("spool scan failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func purgeFailed() async {
        let cutoff = Date().timeIntervalSince1970 - Double(configuration.failedRetention.components.seconds)
        do {
            let purged = try await spool.purgeFailed(olderThan: cutoff)
            if purged > 0 { logger.info("purged failed messages past their retention", metadata: ["count": "\(purged)"]) }
        } catch {
            logger.error("cannot purge failed messages", metadata: ["error": "\(error)"])
        }
    }

    private func work() async {
        while let id = await index.next() {
            await attempt(id)
        }
    }

    /// One delivery attempt: read, hand to the transport, record the outcome, requeue or finish.
    private func attempt(_ id: QueueID) async {
        var logger = self.logger
        logger[metadataKey: "id"] = "\(id)"
        let envelope: MessageEnvelope
        let body: [UInt8]
        var state: DeliveryState
        do {
            (envelope, body) = try await spool.read(id)
            state = try await spool.loadState(id) ?? DeliveryState(recipients: envelope.recipients)
        } catch .notFound {
            await index.skipped(id)  // deleted meanwhile (relayctl delete, or a scan raced a removal)
            return
        } catch {
            logger.error("cannot read queued message", metadata: ["error": "\(error)"])
            await index.deferred(id, until: Date().timeIntervalSince1970 + 60)
            return
        }
        if state.held {  // held since it was offered (a scan that read the state before the hold)
            await index.skipped(id)
            return
        }
        if state.outstanding.isEmpty {  // finished before a crash, not yet removed or retired
            await finish(id, envelope: envelope, body: body, state: state, relay: nil, logger: logger)
            return
        }

        let outstanding = state.outstanding.map(\.address)
        let started = ContinuousClock.now
        let report = await transport.deliver(OutboundMessage(envelope: envelope, body: body, recipients: outstanding))
        let attemptTime = started.duration(to: .now)
        let now = Date().timeIntervalSince1970
        state.attempts += 1
        for i in state.recipients.indices where outstanding.contains(state.recipients[i].address) {
            let outcome = report.outcomes[state.recipients[i].address]
                ?? .deferred("no outcome reported by \(transport.name)")
            switch outcome {
            case .delivered(let reply): state.recipients[i].status = .delivered; state.recipients[i].reply = reply
            case .deferred(let reply): state.recipients[i].status = .deferred; state.recipients[i].reply = reply
            case .failed(let reply): state.recipients[i].status = .failed; state.recipients[i].reply = reply
            }
            state.recipients[i].at = now
        }
        let configuration = self.configuration
        if !state.outstanding.isEmpty, configuration.retry.hasExpired(receivedAt: envelope.receivedAt, now: now) {
            for i in state.recipients.indices where state.recipients[i].status == .deferred || state.recipients[i].status == .pending {
                state.recipients[i].status = .failed
                state.recipients[i].reply = "expired after \(state.attempts) attempts: \(state.recipients[i].reply ?? "")"
            }
        }

        state.record(DeliveryState.Attempt(
            at: now, relay: report.relay, recipients: state.recipients.filter { outstanding.contains($0.address) }))

        let outcomes = Self.attemptOutcomes(state, outstanding: outstanding)
        logAttempt(outcomes, relay: report.relay, attempts: state.attempts, receivedAt: envelope.receivedAt, now: now,
                   attemptTime: attemptTime, logger: logger)
        counters.withLock { $0.add(outcomes, at: now) }
        metrics.record(outcomes, duration: attemptTime)
        await conclude(id, envelope: envelope, body: body, state: state, relay: report.relay, now: now, logger: logger)
        // Published once the outcome is recorded and the message finished or rescheduled, so whoever waited
        // for it finds the queue already showing it.
        recentAttempts.record(AttemptRecord(id: id, relay: report.relay, finishedAt: now, recipients: outcomes))
    }

    /// The end of an attempt whose outcomes are in `state`: record them, bounce new failures, then finish the
    /// message or schedule its retry.
    private func conclude(
        _ id: QueueID, envelope: MessageEnvelope, body: [UInt8], state: DeliveryState, relay: String, now: Double,
        logger: Logger
    ) async {
        var state = state
        // New failures are recorded before their bounce is queued: a crash in between then costs at worst a
        // second bounce, never a second delivery to the recipients this attempt already served.
        if state.recipients.contains(where: \.awaitsBounce) {
            do {
                try await spool.writeState(state, for: id)
            } catch {
                logger.error("cannot record delivery state", metadata: ["error": "\(error)"])
            }
        }
        if state.outstanding.isEmpty {
            await finish(id, envelope: envelope, body: body, state: state, relay: relay, logger: logger)
            return
        }
        // Failures among recipients still being retried are reported now, not when the message finishes.
        if !(await notifySender(&state, envelope: envelope, body: body, relay: relay, logger: logger)) {
            await index.deferred(id, until: now + 60)
            return
        }
        let delay = configuration.retry.delay(afterAttempts: state.attempts, randomUnit: Double.random(in: 0..<1))
        state.nextAttemptAt = now + Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        do {
            try await spool.writeState(state, for: id)
        } catch {
            logger.error("cannot record delivery state", metadata: ["error": "\(error)"])
        }
        await index.deferred(id, until: state.nextAttemptAt)
    }
}

import FoundationEssentials
import Logging
import ServiceLifecycle
import Spool

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

        public init(workers: Int, retry: RetryPolicy, scanInterval: Duration = .seconds(60)) {
            self.workers = workers
            self.retry = retry
            self.scanInterval = scanInterval
        }
    }

    private let spool: Spool
    private let transport: any DeliveryTransport
    private let configuration: Configuration
    private let logger: Logger
    private let index = QueueIndex()

    public init(spool: Spool, transport: any DeliveryTransport, configuration: Configuration, logger: Logger) {
        self.spool = spool
        self.transport = transport
        self.configuration = configuration
        self.logger = logger
    }

    /// Queues what a recovery or scan found; messages already known are left alone.
    public func enqueue(_ messages: [QueuedMessage]) async {
        let now = Date().timeIntervalSince1970
        for message in messages where !message.state.held {
            await index.offer(message.id, dueAt: message.state.nextAttemptAt, now: now)
        }
    }

    /// Retries every deferred message now.
    public func flush() async {
        await index.flush()
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
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { feeders in
                feeders.addTask { await self.followHints() }
                feeders.addTask { await self.releaseAndScan() }
                // Workers finish their current delivery and end once the index closes at shutdown.
                await withDiscardingTaskGroup { workers in
                    for _ in 0..<max(configuration.workers, 1) {
                        workers.addTask { await self.work() }
                    }
                }
                feeders.cancelAll()
            }
        } onGracefulShutdown: {
            Task { await self.index.close() }
        }
        logger.info("queue runner stopped")
    }

    private func followHints() async {
        for await id in spool.newMail {
            await index.offer(id, dueAt: 0, now: Date().timeIntervalSince1970)
        }
    }

    private func releaseAndScan() async {
        var nextScan = ContinuousClock.now + configuration.scanInterval
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            await index.releaseDue(now: Date().timeIntervalSince1970)
            if ContinuousClock.now >= nextScan {
                nextScan = ContinuousClock.now + configuration.scanInterval
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

    private func work() async {
        while let id = await index.next() {
            await attempt(id)
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
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
            await index.finished(id)  // deleted meanwhile (relayctl delete, or a scan raced a removal)
            return
        } catch {
            logger.error("cannot read queued message", metadata: ["error": "\(error)"])
            await index.deferred(id, until: Date().timeIntervalSince1970 + 60)
            return
        }
        if state.held {
            await index.finished(id)
            return
        }

        let outstanding = state.outstanding.map(\.address)
        let started = ContinuousClock.now
        let outcomes = await transport.deliver(OutboundMessage(envelope: envelope, body: body, recipients: outstanding))
        let now = Date().timeIntervalSince1970
        for i in state.recipients.indices where outstanding.contains(state.recipients[i].address) {
            let recipient = state.recipients[i].address
            switch outcomes[recipient] ?? .deferred("no outcome reported by \(transport.name)") {
            case .delivered(let reply):
                state.recipients[i].status = .delivered
                state.recipients[i].reply = reply
            case .deferred(let reply):
                state.recipients[i].status = .deferred
                state.recipients[i].reply = reply
            case .failed(let reply):
                state.recipients[i].status = .failed
                state.recipients[i].reply = reply
            }
            state.recipients[i].at = now
            logger.info("delivery", metadata: [
                "to": "<\(recipient)>", "relay": "\(transport.name)",
                "status": "\(state.recipients[i].status.rawValue)", "reply": "\(state.recipients[i].reply ?? "")",
                "delay_ms": "\(Int((now - envelope.receivedAt) * 1000))",
                "attempt_ms": "\(Self.milliseconds(started.duration(to: .now)))",
            ])
        }
        state.attempts += 1

        if !state.outstanding.isEmpty, configuration.retry.hasExpired(receivedAt: envelope.receivedAt, now: now) {
            for i in state.recipients.indices where state.recipients[i].status == .deferred || state.recipients[i].status == .pending {
                state.recipients[i].status = .failed
                state.recipients[i].reply = "expired after \(state.attempts) attempts: \(state.recipients[i].reply ?? "")"
            }
        }

        if state.outstanding.isEmpty {
            do {
                try await spool.remove(id)
                await index.finished(id)
                logger.info("removed", metadata: ["attempts": "\(state.attempts)"])
            } catch {
                logger.error("cannot remove finished message", metadata: ["error": "\(error)"])
                await index.deferred(id, until: now + 60)
            }
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

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
        /// The host name bounces are reported from; nil when bounces are off (`bounces: none`): failed
        /// recipients are then only logged.
        public var bounceReportingHost: String?
        /// How long messages with failed recipients stay in `failed/` for operators to inspect.
        public var failedRetention: Duration

        public init(
            workers: Int, retry: RetryPolicy, scanInterval: Duration = .seconds(60), bounceReportingHost: String? = nil,
            failedRetention: Duration = .seconds(7 * 86_400)
        ) {
            self.workers = workers
            self.retry = retry
            self.scanInterval = scanInterval
            self.bounceReportingHost = bounceReportingHost
            self.failedRetention = failedRetention
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

    /// Seconds with two decimals (`0.05`), as Postfix writes delays.
    private static func seconds(_ value: Double) -> String {
        let hundredths = Int((max(value, 0) * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// One line per attempt and outcome, in the spirit of Postfix's `status=sent (250 …)` lines; recipients
    /// that share an outcome share the line.
    private func logAttempt(
        _ report: DeliveryReport, state: DeliveryState, outstanding: [String], receivedAt: Double, now: Double,
        attemptTime: Duration, logger: Logger
    ) {
        var groups: [(status: String, reply: String, recipients: [String])] = []
        for recipient in state.recipients where outstanding.contains(recipient.address) {
            let status = switch recipient.status {
            case .delivered: "sent"
            case .failed: "bounced"
            case .pending, .deferred: "deferred"
            }
            let reply = recipient.reply ?? ""
            if let i = groups.firstIndex(where: { $0.status == status && $0.reply == reply }) {
                groups[i].recipients.append(recipient.address)
            } else {
                groups.append((status, reply, [recipient.address]))
            }
        }
        let delay = Self.seconds(now - receivedAt)
        let attempt = Self.seconds(Double(attemptTime.components.seconds) + Double(attemptTime.components.attoseconds) / 1e18)
        for group in groups {
            let metadata: Logger.Metadata = [
                "to": "\(group.recipients.map { "<\($0)>" }.joined(separator: ","))", "relay": "\(report.relay)",
                "delay": "\(delay)", "attempt_time": "\(attempt)", "attempts": "\(state.attempts)",
                "status": "\(group.status)", "reply": "\(group.reply)",
            ]
            if group.status == "deferred" {
                logger.warning("delivery", metadata: metadata)
            } else {
                logger.info("delivery", metadata: metadata)
            }
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
        if state.outstanding.isEmpty {  // finished before a crash, not yet removed or retired
            await finish(id, envelope: envelope, body: body, state: state, relay: nil, logger: logger)
            return
        }

        let outstanding = state.outstanding.map(\.address)
        let started = ContinuousClock.now
        let report = await transport.deliver(OutboundMessage(envelope: envelope, body: body, recipients: outstanding))
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
        if !state.outstanding.isEmpty, configuration.retry.hasExpired(receivedAt: envelope.receivedAt, now: now) {
            for i in state.recipients.indices where state.recipients[i].status == .deferred || state.recipients[i].status == .pending {
                state.recipients[i].status = .failed
                state.recipients[i].reply = "expired after \(state.attempts) attempts: \(state.recipients[i].reply ?? "")"
            }
        }

        logAttempt(report, state: state, outstanding: outstanding, receivedAt: envelope.receivedAt, now: now,
                   attemptTime: started.duration(to: .now), logger: logger)

        if state.outstanding.isEmpty {
            await finish(id, envelope: envelope, body: body, state: state, relay: report.relay, logger: logger)
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

    /// Ends a message whose every recipient is delivered or failed: removed when all were delivered;
    /// otherwise the sender is told (one DSN for all failed recipients, queued before the original leaves
    /// the queue, so a crash costs at worst a second bounce) and the message is kept in `failed/`.
    private func finish(
        _ id: QueueID, envelope: MessageEnvelope, body: [UInt8], state: DeliveryState, relay: String?, logger: Logger
    ) async {
        let now = Date().timeIntervalSince1970
        guard state.recipients.contains(where: { $0.status == .failed }) else {
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
        if let host = configuration.bounceReportingHost {
            // The relay's host name without address and port, for Remote-MTA.
            let remoteHost = relay.flatMap { $0.split(separator: "[").first.map(String.init) }
            do {
                let sender = BounceSender(spool: spool, reportingHost: host)
                if let bounce = try await sender.send(
                    original: envelope, originalMessage: body, state: state, remoteHost: remoteHost, now: now) {
                    logger.info("sender non-delivery notification", metadata: ["bounce_id": "\(bounce)", "sender": "<\(envelope.sender)>"])
                } else {
                    logger.info("no bounce for the null sender", metadata: ["sender": "<>"])
                }
            } catch {
                logger.error("cannot queue the bounce; will try again", metadata: ["error": "\(error)"])
                try? await spool.writeState(state, for: id)
                await index.deferred(id, until: now + 60)
                return
            }
        } else {
            logger.notice("bounces are off: failed recipients are not reported to the sender", metadata: ["sender": "<\(envelope.sender)>"])
        }
        do {
            try await spool.retireFailed(id, state: state)
            await index.finished(id)
            logger.info("moved to failed", metadata: ["attempts": "\(state.attempts)"])
        } catch {
            logger.error("cannot move the failed message out of the queue", metadata: ["error": "\(error)"])
            await index.deferred(id, until: now + 60)
        }
    }
}

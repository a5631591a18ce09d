import FoundationEssentials
import Logging
import Spool

extension QueueRunner {
    /// Ends a message whose every recipient is delivered or failed: removed when all were delivered;
    /// otherwise the sender is told of failures not yet reported (the bounce is queued before the original
    /// leaves the queue, so a crash costs at worst a second bounce) and the message is kept in `failed/`.
    func finish(
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
                await keepForRetry(id, state: state, now: now)
            }
            return
        }
        var state = state
        guard await notifySender(&state, envelope: envelope, body: body, relay: relay, logger: logger) else {
            await index.deferred(id, until: now + 60)
            return
        }
        do {
            try await spool.retireFailed(id, state: state)
            await index.finished(id)
            logger.info("moved to failed", metadata: ["attempts": "\(state.attempts)"])
        } catch {
            logger.error("cannot move the failed message out of the queue", metadata: ["error": "\(error)"])
            await keepForRetry(id, state: state, now: now)
        }
    }

    /// The message is finished but could not leave the queue: record its final state, so the next try
    /// (a minute later) only finishes it again instead of delivering to anyone a second time.
    private func keepForRetry(_ id: QueueID, state: DeliveryState, now: Double) async {
        do {
            try await spool.writeState(state, for: id)
        } catch {
            logger.error("cannot record delivery state", metadata: ["id": "\(id)", "error": "\(error)"])
        }
        await index.deferred(id, until: now + 60)
    }

    /// Queues one bounce for the recipients that failed since the sender was last told, and marks them, so
    /// a hard failure is reported after the attempt that found it even while other recipients are still
    /// being retried (as Postfix does). False when the bounce could not be queued; the caller retries.
    func notifySender(
        _ state: inout DeliveryState, envelope: MessageEnvelope, body: [UInt8], relay: String?, logger: Logger
    ) async -> Bool {
        let unreported = state.recipients.indices.filter { state.recipients[$0].awaitsBounce }
        guard !unreported.isEmpty else { return true }
        let now = Date().timeIntervalSince1970
        if let host = configuration.bounceReportingHost {
            // The relay's host name without address and port, for Remote-MTA.
            let remoteHost = relay.flatMap { $0.split(separator: "[").first.map(String.init) }
            do {
                let sender = BounceSender(spool: spool, reportingHost: host)
                if let bounce = try await sender.send(
                    original: envelope, originalMessage: body, state: state, remoteHost: remoteHost, now: now) {
                    logger.info("sender non-delivery notification", metadata: [
                        "bounce_id": "\(bounce)", "sender": "<\(envelope.sender)>", "failed": "\(unreported.count)"])
                } else {
                    logger.info("no bounce for the null sender", metadata: ["sender": "<>"])
                }
            } catch {
                logger.error("cannot queue the bounce; will try again", metadata: ["error": "\(error)"])
                return false
            }
        } else {
            logger.notice("bounces are off: failed recipients are not reported to the sender", metadata: ["sender": "<\(envelope.sender)>"])
        }
        for i in unreported { state.recipients[i].senderNotified = true }
        return true
    }
}

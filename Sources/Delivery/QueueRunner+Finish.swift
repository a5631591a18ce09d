import FoundationEssentials
import Logging
import Spool

extension QueueRunner {
    /// Ends a message whose every recipient is delivered or failed: removed when all were delivered;
    /// otherwise the sender is told (one DSN for all failed recipients, queued before the original leaves
    /// the queue, so a crash costs at worst a second bounce) and the message is kept in `failed/`.
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

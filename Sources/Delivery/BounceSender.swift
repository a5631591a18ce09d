import FoundationEssentials
import Spool

/// Queues bounces: each is a new message in the spool, from the null sender to the original sender, and is
/// delivered (and retried) like any other mail.
public struct BounceSender: Sendable {
    public let spool: Spool
    /// The name relayd reports as (`Reporting-MTA`, `MAILER-DAEMON@…`).
    public let reportingHost: String

    public init(spool: Spool, reportingHost: String) {
        self.spool = spool
        self.reportingHost = reportingHost
    }

    /// Queues a bounce telling `original.sender` that `failed` will never be delivered, and returns its
    /// queue id once committed; nil when no bounce is due. None is due for the null sender (RFC 5321 §4.5.5)
    /// — which is also why a bounce is never bounced: bounces are sent from the null sender — nor when
    /// nothing failed. Spool errors pass through; nothing of a bounce that failed to commit stays queued.
    ///
    /// Queue the bounce before retiring the original (`Spool.retireFailed`): a crash in between then costs
    /// at worst a second bounce, never a lost one.
    public func send(
        original: MessageEnvelope, originalMessage: [UInt8], failed: [BounceMessage.FailedRecipient],
        now: Double = Date().timeIntervalSince1970
    ) async throws(SpoolError) -> QueueID? {
        guard !original.sender.isEmpty, !failed.isEmpty else { return nil }
        let bounce = BounceMessage(
            reportingHost: reportingHost, original: original, originalMessage: originalMessage, failed: failed, now: now)
        let bytes = bounce.render()
        let receipt = spool.beginReceipt(
            sender: "", recipients: [bounce.recipient], clientAddress: "127.0.0.1", clientName: "localhost",
            // 8-bit octets only ever appear in the bounce of an SMTPUTF8 message; declared so delivery says so.
            eightBitMIME: bytes.contains { $0 >= 0x80 }, smtputf8: original.smtputf8)
        do throws(SpoolError) {
            try await receipt.append(bytes)
        } catch {
            await receipt.abandon()
            throw error
        }
        return try await receipt.commit()
    }

    /// The same for the recipients `state` records as failed and not yet reported, each with its last reply.
    public func send(
        original: MessageEnvelope, originalMessage: [UInt8], state: DeliveryState, remoteHost: String? = nil,
        now: Double = Date().timeIntervalSince1970
    ) async throws(SpoolError) -> QueueID? {
        try await send(
            original: original, originalMessage: originalMessage,
            failed: BounceMessage.FailedRecipient.failures(in: state, remoteHost: remoteHost, now: now), now: now)
    }
}

extension BounceMessage.FailedRecipient {
    /// The recipients `state` records as failed and the sender has not been told of yet, each with its last
    /// reply (a missing one says so) and time.
    public static func failures(in state: DeliveryState, remoteHost: String? = nil, now: Double) -> [Self] {
        state.recipients.filter(\.awaitsBounce).map {
            Self(address: $0.address, reply: $0.reply ?? "no reply recorded", remoteHost: remoteHost, at: $0.at ?? now)
        }
    }
}

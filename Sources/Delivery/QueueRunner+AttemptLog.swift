import Logging
import Spool

extension QueueRunner {
    /// Seconds with two decimals (`0.05`), as Postfix writes delays.
    static func seconds(_ value: Double) -> String {
        let hundredths = Int((max(value, 0) * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Each recipient of an attempt (those in `outstanding`) with its outcome as the log, `relayctl stats`
    /// and `relayctl send-test` name it: `sent`, `deferred` (also when no outcome is known yet) or `bounced`.
    static func attemptOutcomes(_ state: DeliveryState, outstanding: [String]) -> [AttemptRecord.Recipient] {
        state.recipients.filter { outstanding.contains($0.address) }.map { recipient in
            let status: AttemptRecord.Recipient.Status = switch recipient.status {
            case .delivered: .sent
            case .failed: .bounced
            case .pending, .deferred: .deferred
            }
            return AttemptRecord.Recipient(address: recipient.address, status: status, reply: recipient.reply ?? "")
        }
    }

    /// One line per attempt and outcome, in the spirit of Postfix's `status=sent (250 …)` lines; recipients
    /// that share an outcome share the line.
    func logAttempt(
        _ outcomes: [AttemptRecord.Recipient], relay: String, attempts: Int, receivedAt: Double, now: Double,
        attemptTime: Duration, logger: Logger
    ) {
        var groups: [(status: AttemptRecord.Recipient.Status, reply: String, recipients: [String])] = []
        for outcome in outcomes {
            if let i = groups.firstIndex(where: { $0.status == outcome.status && $0.reply == outcome.reply }) {
                groups[i].recipients.append(outcome.address)
            } else {
                groups.append((outcome.status, outcome.reply, [outcome.address]))
            }
        }
        let delay = Self.seconds(now - receivedAt)
        let attempt = Self.seconds(Double(attemptTime.components.seconds) + Double(attemptTime.components.attoseconds) / 1e18)
        for group in groups {
            let metadata: Logger.Metadata = [
                "to": "\(group.recipients.map { "<\($0)>" }.joined(separator: ","))", "relay": "\(relay)",
                "delay": "\(delay)", "attempt_time": "\(attempt)", "attempts": "\(attempts)",
                "status": "\(group.status)", "reply": "\(group.reply)",
            ]
            if group.status == .deferred {
                logger.warning("delivery", metadata: metadata)
            } else {
                logger.info("delivery", metadata: metadata)
            }
        }
    }
}

import Logging
import Spool

extension QueueRunner {
    /// Seconds with two decimals (`0.05`), as Postfix writes delays.
    static func seconds(_ value: Double) -> String {
        let hundredths = Int((max(value, 0) * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// One line per attempt and outcome, in the spirit of Postfix's `status=sent (250 …)` lines; recipients
    /// that share an outcome share the line.
    func logAttempt(
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
}

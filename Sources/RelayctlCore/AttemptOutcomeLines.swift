import Control

/// What `relayctl send-test` prints about the delivery attempt it waited for, one line per recipient:
/// `ops@example.org: sent via smtp.example.com[192.0.2.7]:587: 250 2.0.0 Ok`.
public enum AttemptOutcomeLines {
    public static func lines(_ outcome: AttemptOutcome) -> [String] {
        outcome.recipients.map { recipient in
            var line = "\(recipient.address): \(recipient.status.rawValue)"
            if let relay = outcome.relay { line += " via \(relay)" }
            if let reply = recipient.reply { line += ": \(reply)" }
            return line
        }
    }

    /// Whether every recipient was delivered.
    public static func allSent(_ outcome: AttemptOutcome) -> Bool {
        !outcome.recipients.isEmpty && outcome.recipients.allSatisfy { $0.status == .sent }
    }
}

import Delivery
import RelayTesting
import Spool
import Threading

/// A `DeliveryTransport` that records every call and answers from a script, one entry per attempt.
///
/// Each script entry maps recipients to outcomes; a recipient missing from the entry gets
/// `defaultOutcome`. Attempts past the end of the script reuse the last entry.
final class ScriptedTransport: DeliveryTransport {
    let name = "scripted"
    private let script: [[String: RecipientOutcome]]
    private let defaultOutcome: RecipientOutcome?
    private let recorded = Locked<[OutboundMessage]>([])

    init(_ script: [[String: RecipientOutcome]], defaultOutcome: RecipientOutcome? = .delivered("250 2.0.0 Ok")) {
        self.script = script
        self.defaultOutcome = defaultOutcome
    }

    /// Every outcome for every attempt is `outcome`.
    convenience init(always outcome: RecipientOutcome) {
        self.init([[:]], defaultOutcome: outcome)
    }

    var calls: [OutboundMessage] { recorded.withLock { $0 } }
    var callCount: Int { recorded.withLock { $0.count } }

    func deliver(_ message: OutboundMessage) async -> DeliveryReport {
        let attempt = recorded.withLock { calls -> Int in
            calls.append(message)
            return calls.count - 1
        }
        let entry = script.isEmpty ? [:] : script[min(attempt, script.count - 1)]
        var outcomes: [String: RecipientOutcome] = [:]
        for recipient in message.recipients {
            if let outcome = entry[recipient] ?? defaultOutcome { outcomes[recipient] = outcome }
        }
        return DeliveryReport(relay: name, outcomes: outcomes)
    }

    /// Waits until at least `count` attempts were made.
    func waitForCalls(_ count: Int, timeout: Duration = .seconds(30)) async -> Bool {
        await eventually(timeout: timeout) { self.callCount >= count }
    }
}

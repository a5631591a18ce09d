import Control
import RelayctlCore
import Spool
import Testing

@Suite("AttemptOutcomeLines")
struct AttemptOutcomeLinesTests {
    let a = QueueID("0F3A9C2E1B7D4")!

    @Test func outcomesOfATestMessage() {
        let sent = AttemptOutcome(id: a, relay: "smtp.example.com[192.0.2.7]:587", recipients: [
            .init(address: "ops@example.org", status: .sent, reply: "250 2.0.0 Ok"),
        ])
        #expect(AttemptOutcomeLines.lines(sent) == ["ops@example.org: sent via smtp.example.com[192.0.2.7]:587: 250 2.0.0 Ok"])
        #expect(AttemptOutcomeLines.allSent(sent))
        let deferred = AttemptOutcome(id: a, relay: nil, recipients: [
            .init(address: "ops@example.org", status: .deferred, reply: "connect to smtp.example.com:587: Connection refused"),
        ])
        #expect(AttemptOutcomeLines.lines(deferred) == ["ops@example.org: deferred: connect to smtp.example.com:587: Connection refused"])
        #expect(!AttemptOutcomeLines.allSent(deferred))
    }
}

@testable import Delivery
import RelayTesting
import Spool
import Testing

@Suite("AttemptHistory: outcomes for send-test")
struct AttemptHistoryTests {
    static func id(_ n: Int) -> QueueID { QueueID(String(repeating: "0", count: 9) + String(1000 + n))! }

    static func record(_ n: Int, status: AttemptRecord.Recipient.Status = .sent, at time: Double = 1) -> AttemptRecord {
        AttemptRecord(
            id: id(n), relay: "scripted", finishedAt: time,
            recipients: [.init(address: "a@example.net", status: status, reply: "")])
    }

    @Test func theMostRecentRecordOfAMessageIsAnsweredAtOnce() async {
        let history = AttemptHistory()
        history.record(Self.record(1, status: .deferred, at: 1))
        history.record(Self.record(2))
        history.record(Self.record(1, status: .sent, at: 2))
        #expect(await history.outcome(of: Self.id(1), timeout: .zero) == Self.record(1, status: .sent, at: 2))
        #expect(await history.outcome(of: Self.id(3), timeout: .zero) == nil)
    }

    @Test func onlyTheLastRecordsAreKept() async {
        let history = AttemptHistory(capacity: 3)
        for n in 1...5 { history.record(Self.record(n)) }
        #expect(await history.outcome(of: Self.id(1), timeout: .zero) == nil)
        #expect(await history.outcome(of: Self.id(2), timeout: .zero) == nil)
        for n in 3...5 { #expect(await history.outcome(of: Self.id(n), timeout: .zero) == Self.record(n)) }
    }

    @Test func everyWaiterForAMessageGetsItsNextRecord() async {
        let history = AttemptHistory()
        let waiters = (0..<3).map { _ in Task { await history.outcome(of: Self.id(7), timeout: .seconds(600)) } }
        let other = Task { await history.outcome(of: Self.id(8), timeout: .seconds(600)) }
        #expect(await eventually { history.waiterCount == 4 })
        history.record(Self.record(7))
        for waiter in waiters { #expect(await waiter.value == Self.record(7)) }
        #expect(history.waiterCount == 1, "the wait for another message goes on")
        other.cancel()
        #expect(await other.value == nil)
        #expect(history.waiterCount == 0)
    }

    @Test func aTimedOutWaitLeavesNothingBehind() async {
        let history = AttemptHistory()
        #expect(await history.outcome(of: Self.id(1), timeout: .milliseconds(100)) == nil)
        #expect(history.waiterCount == 0)
        history.record(Self.record(1))  // nobody to wake
        #expect(history.waiterCount == 0)
    }
}

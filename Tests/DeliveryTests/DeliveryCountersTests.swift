@testable import Delivery
import Testing

@Suite("DeliveryCounters: the last hour's outcomes")
struct DeliveryCountersTests {
    /// The start of some minute, in seconds since the epoch.
    static let t0 = Double(29_000_000 * 60)

    static func recipients(sent: Int = 0, deferred: Int = 0, bounced: Int = 0) -> [AttemptRecord.Recipient] {
        Array(repeating: .init(address: "a@example.net", status: .sent, reply: "250"), count: sent)
            + Array(repeating: .init(address: "b@example.net", status: .deferred, reply: "421"), count: deferred)
            + Array(repeating: .init(address: "c@example.net", status: .bounced, reply: "550"), count: bounced)
    }

    @Test func countsEachStatus() {
        var counters = DeliveryCounters()
        counters.add(Self.recipients(sent: 3, deferred: 2, bounced: 1), at: Self.t0 + 5)
        counters.add(Self.recipients(sent: 1), at: Self.t0 + 70)
        #expect(counters.totals(at: Self.t0 + 90) == .init(sent: 4, deferred: 2, bounced: 1))
    }

    @Test func outcomesLeaveTheWindowAfterAnHour() {
        var counters = DeliveryCounters()
        counters.add(Self.recipients(sent: 1), at: Self.t0)
        counters.add(Self.recipients(deferred: 1), at: Self.t0 + 30 * 60)
        #expect(counters.totals(at: Self.t0 + 59 * 60 + 59).sent == 1, "still within the hour")
        #expect(counters.totals(at: Self.t0 + 60 * 60) == .init(sent: 0, deferred: 1, bounced: 0))
        #expect(counters.totals(at: Self.t0 + 90 * 60) == .init(), "all of it past")
    }

    @Test func aSlotComingRoundAgainStartsAfresh() {
        var counters = DeliveryCounters()
        counters.add(Self.recipients(sent: 5), at: Self.t0 + 10)
        counters.add(Self.recipients(bounced: 1), at: Self.t0 + 3_600 + 10)  // the same slot an hour later
        #expect(counters.totals(at: Self.t0 + 3_600 + 20) == .init(sent: 0, deferred: 0, bounced: 1))
        counters.add(Self.recipients(sent: 2), at: Self.t0 + 3_600 + 50)
        #expect(counters.totals(at: Self.t0 + 3_600 + 50) == .init(sent: 2, deferred: 0, bounced: 1))
    }

    @Test func aClockThatWentBackDoesNotCountTheFuture() {
        var counters = DeliveryCounters()
        counters.add(Self.recipients(sent: 1), at: Self.t0 + 600)
        #expect(counters.totals(at: Self.t0) == .init())
        #expect(counters.totals(at: Self.t0 + 600).sent == 1)
    }
}

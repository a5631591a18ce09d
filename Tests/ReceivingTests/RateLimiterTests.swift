@testable import Receiving
import Testing

@Suite("Inbound rate limits")
struct RateLimiterTests {
    @Test func aBucketGivesTheLimitAtOnceThenRefillsOneEverySixtyOverLimitSeconds() {
        var bucket = TokenBucket(limit: 6, now: 100)
        let times: [Double] = [100, 100, 100, 100, 100, 100, 100, 109.9, 110.1, 110.2]
        var taken: [Bool] = []
        for now in times { taken.append(bucket.take(limit: 6, now: now)) }
        #expect(taken == [true, true, true, true, true, true, false, false, true, false],
                "six at once, then one token takes 10 s to come back")
        #expect(!bucket.isFull(limit: 6, now: 150))
        #expect(bucket.isFull(limit: 6, now: 171))
    }

    @Test func aClockGoingBackwardsRefillsNothing() {
        var bucket = TokenBucket(limit: 1, now: 50)
        let first = bucket.take(limit: 1, now: 50)
        let earlier = bucket.take(limit: 1, now: 40)
        #expect(first && !earlier)
    }

    @Test func keysAreCountedApartAndZeroMeansNoLimit() {
        let start = ContinuousClock.now
        let limiter = RateLimiter(limit: 2)
        #expect(limiter.admit("192.0.2.1", now: start))
        #expect(limiter.admit("192.0.2.1", now: start))
        #expect(!limiter.admit("192.0.2.1", now: start))
        #expect(limiter.admit("192.0.2.2", now: start), "another address has its own allowance")
        #expect(limiter.admit("192.0.2.1", now: start + .seconds(31)), "half a minute gives one back")

        limiter.setLimit(0)
        for _ in 0..<100 { #expect(limiter.admit("192.0.2.1", now: start + .seconds(31))) }
    }

    @Test func bucketsThatRefilledAreForgotten() {
        let start = ContinuousClock.now
        let limiter = RateLimiter(limit: 10)
        for i in 0..<1000 { _ = limiter.admit("client-\(i)", now: start) }
        #expect(limiter.trackedKeys == 1000)
        for i in 0..<24 { _ = limiter.admit("late-\(i)", now: start + .seconds(120)) }
        #expect(limiter.trackedKeys == 24, "the first thousand refilled within two minutes and are gone; the late ones are in use")
    }

    @Test func theAuthFailureDelayDoublesUpToThirtySecondsAndResetsOnSuccess() {
        #expect((0...8).map { AuthFailureDelay.delay(afterFailures: $0) }
            == [.zero, .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30), .seconds(30)])
        let delays = AuthFailureDelay()
        let start = ContinuousClock.now
        #expect(delays.delay(for: "192.0.2.1", now: start) == .zero)
        delays.recordFailure("192.0.2.1", now: start)
        delays.recordFailure("192.0.2.1", now: start)
        #expect(delays.delay(for: "192.0.2.1", now: start) == .seconds(2))
        #expect(delays.delay(for: "192.0.2.9", now: start) == .zero, "per address")
        delays.recordSuccess("192.0.2.1")
        #expect(delays.delay(for: "192.0.2.1", now: start) == .zero)
        delays.recordFailure("192.0.2.1", now: start)
        #expect(delays.delay(for: "192.0.2.1", now: start + .seconds(15 * 60)) == .zero, "forgotten after 15 quiet minutes")
    }
}

import Delivery
import Testing

@Suite("RetryPolicy")
struct RetryPolicyTests {
    static let plain = RetryPolicy(
        first: .seconds(60), maximum: .seconds(3600), multiplier: 2, jitter: 0, lifetime: .seconds(5 * 86_400))

    @Test(arguments: [
        (0, 60), (1, 60), (2, 120), (3, 240), (4, 480), (5, 960), (6, 1920), (7, 3600), (8, 3600), (50, 3600),
        (10_000, 3600),
    ])
    func backoffDoublesUpToTheCap(attempts: Int, seconds: Int64) {
        #expect(Self.plain.delay(afterAttempts: attempts, randomUnit: 0.5) == .seconds(seconds))
    }

    @Test func fractionalFirstDelayAndMultiplier() {
        let policy = RetryPolicy(first: .milliseconds(1500), maximum: .seconds(100), multiplier: 1.5, jitter: 0, lifetime: .seconds(60))
        #expect(policy.delay(afterAttempts: 1, randomUnit: 0) == .milliseconds(1500))
        #expect(policy.delay(afterAttempts: 2, randomUnit: 0) == .milliseconds(2250))
        #expect(policy.delay(afterAttempts: 3, randomUnit: 0) == .milliseconds(3375))
    }

    /// Below the cap (even with the highest jitter) the delay stays within ±jitter of the base.
    @Test(arguments: [1, 2, 5, 6])
    func jitterStaysWithinItsFractionBelowTheCap(attempts: Int) {
        var policy = Self.plain
        policy.jitter = 0.2
        let base = Self.plain.delay(afterAttempts: attempts, randomUnit: 0.5)
        #expect(base * 1.2 < policy.maximum, "the case under test")
        let low = policy.delay(afterAttempts: attempts, randomUnit: 0)
        let high = policy.delay(afterAttempts: attempts, randomUnit: 0.999_999)
        #expect(roughlyEqual(low, base * 0.8))
        #expect(high <= base * 1.2)
        #expect(high > base * 1.199)
        #expect(roughlyEqual(policy.delay(afterAttempts: attempts, randomUnit: 0.5), base), "the middle of the range is the base")
        for step in 0..<100 {
            let delay = policy.delay(afterAttempts: attempts, randomUnit: Double(step) / 100)
            #expect(delay >= low && delay < high + .milliseconds(1))
        }
    }

    /// `maximum` is a promise to the operator: at the cap, jitter can only lower the delay.
    @Test(arguments: [7, 8, 30, 40, 10_000])
    func jitterNeverExceedsTheMaximumAtTheCap(attempts: Int) {
        var policy = Self.plain
        policy.jitter = 0.2
        #expect(Self.plain.delay(afterAttempts: attempts, randomUnit: 0.5) == .seconds(3600), "the case under test")
        #expect(roughlyEqual(policy.delay(afterAttempts: attempts, randomUnit: 0), .seconds(2880)), "down to -jitter")
        #expect(policy.delay(afterAttempts: attempts, randomUnit: 0.5) == .seconds(3600))
        #expect(policy.delay(afterAttempts: attempts, randomUnit: 0.999_999) == .seconds(3600), "clamped, not 4320 s")
        var previous = Duration.zero
        for step in 0..<100 {
            let delay = policy.delay(afterAttempts: attempts, randomUnit: Double(step) / 100)
            #expect(delay <= .seconds(3600))
            #expect(delay >= previous, "still monotone in the random unit")
            previous = delay
        }
    }

    /// Just below the cap, the upper part of the jitter range is cut at the maximum; the lower part is kept.
    @Test func jitterNearTheCapIsClampedToTheMaximum() {
        var policy = Self.plain
        policy.maximum = .seconds(2000)
        policy.jitter = 0.2
        #expect(policy.delay(afterAttempts: 6, randomUnit: 0.5) == .seconds(1920))
        #expect(roughlyEqual(policy.delay(afterAttempts: 6, randomUnit: 0), .seconds(1536)))
        #expect(roughlyEqual(policy.delay(afterAttempts: 6, randomUnit: 0.6), .milliseconds(1_996_800)))
        #expect(policy.delay(afterAttempts: 6, randomUnit: 0.7) == .seconds(2000))
        #expect(policy.delay(afterAttempts: 6, randomUnit: 0.999_999) == .seconds(2000))
    }

    /// Equal to the millisecond: the policy works in Double seconds and rounds down to milliseconds.
    private func roughlyEqual(_ a: Duration, _ b: Duration) -> Bool {
        abs((a - b) / .milliseconds(1)) <= 1
    }

    @Test func delayIsMonotoneInAttemptsWithoutJitter() {
        let delays = (1...40).map { Self.plain.delay(afterAttempts: $0, randomUnit: 0.3) }
        #expect(delays == delays.sorted())
    }

    @Test(arguments: [
        (0.0, false), (60.0, false), (5 * 86_400.0 - 0.001, false), (5 * 86_400.0, true), (6 * 86_400.0, true),
    ])
    func expiryAfterLifetime(age: Double, expired: Bool) {
        let receivedAt = 1_700_000_000.0
        #expect(Self.plain.hasExpired(receivedAt: receivedAt, now: receivedAt + age) == expired)
    }
}

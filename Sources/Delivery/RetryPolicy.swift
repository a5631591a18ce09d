#if canImport(Glibc)
import Glibc
#endif

/// When to try a deferred message again: a pure function of the attempt count, with a cap and jitter.
///
/// Exponential backoff (`first × multiplier^(attempts−1)`, capped at `maximum`) as Postfix's qmgr does
/// between minimal_backoff_time and maximal_backoff_time; jitter spreads retries so a recovered upstream
/// is not hit by the whole queue in the same second.
public struct RetryPolicy: Sendable, Equatable {
    public var first: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// Fraction of the delay to randomise, in [0, 1).
    public var jitter: Double
    /// How long a message may stay queued before it is failed for good.
    public var lifetime: Duration

    public init(first: Duration, maximum: Duration, multiplier: Double, jitter: Double, lifetime: Duration) {
        self.first = first
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
        self.lifetime = lifetime
    }

    /// Delay before the next attempt after `attempts` failed ones (≥ 1). `randomUnit` in [0, 1) picks the
    /// jitter, so the function stays pure and testable.
    public func delay(afterAttempts attempts: Int, randomUnit: Double) -> Duration {
        // pow may overflow to infinity after many attempts; min() then yields the cap.
        let base = seconds(first) * Glibc.pow(multiplier, Double(max(attempts, 1) - 1))
        let capped = min(base, seconds(maximum))
        let factor = 1 + jitter * (2 * randomUnit - 1)
        // Clamp after jitter too: `maximum` is a promise to the operator, not a centre.
        return .milliseconds(Int64(min(capped * factor, seconds(maximum)) * 1000))
    }

    /// Whether a message received at `receivedAt` has outlived the queue lifetime at `now` (epoch seconds).
    public func hasExpired(receivedAt: Double, now: Double) -> Bool {
        now - receivedAt >= seconds(lifetime)
    }

    private func seconds(_ duration: Duration) -> Double {
        let (s, attoseconds) = duration.components
        return Double(s) + Double(attoseconds) / 1e18
    }
}

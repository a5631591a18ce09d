import Threading

/// `inbound.rate`: how many connections or messages a client address (or an authenticated user) may start
/// per minute. One token bucket per key; buckets that have refilled completely are forgotten, so memory
/// follows the clients that are busy now, not every address ever seen.
final class RateLimiter: Sendable {
    private struct State {
        var limit: Int
        var buckets: [String: TokenBucket] = [:]
        var admittedSincePrune = 0
    }

    private let state: Locked<State>

    /// `limit` per minute; 0 admits everything.
    init(limit: Int) {
        state = Locked(State(limit: limit))
    }

    /// A new limit from a configuration reload; buckets keep their fill.
    func setLimit(_ limit: Int) {
        state.withLock { $0.limit = limit }
    }

    /// Whether `key` may have one more now.
    func admit(_ key: String, now: ContinuousClock.Instant = .now) -> Bool {
        let seconds = Self.seconds(now)
        return state.withLock { state in
            guard state.limit > 0 else { return true }
            var bucket = state.buckets[key] ?? TokenBucket(limit: state.limit, now: seconds)
            let admitted = bucket.take(limit: state.limit, now: seconds)
            state.buckets[key] = bucket
            state.admittedSincePrune += 1
            if state.admittedSincePrune >= 1024 {
                state.admittedSincePrune = 0
                let limit = state.limit
                state.buckets = state.buckets.filter { !$0.value.isFull(limit: limit, now: seconds) }
            }
            return admitted
        }
    }

    /// Keys being tracked (for tests of the pruning).
    var trackedKeys: Int { state.withLock { $0.buckets.count } }

    private static let origin = ContinuousClock.now

    private static func seconds(_ instant: ContinuousClock.Instant) -> Double {
        let elapsed = instant - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

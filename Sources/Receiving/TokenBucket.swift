/// A per-minute allowance that refills continuously: `limit` events at once, then one every 60/limit
/// seconds. Pure: the caller passes the time.
struct TokenBucket: Sendable, Equatable {
    private(set) var tokens: Double
    private(set) var updatedAt: Double

    init(limit: Int, now: Double) {
        tokens = Double(limit)
        updatedAt = now
    }

    /// Takes one token if there is one; `now` in seconds on a monotonic clock.
    mutating func take(limit: Int, now: Double) -> Bool {
        refill(limit: limit, now: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Whether the bucket is full, i.e. forgetting it changes nothing.
    func isFull(limit: Int, now: Double) -> Bool {
        var copy = self
        copy.refill(limit: limit, now: now)
        return copy.tokens >= Double(limit)
    }

    private mutating func refill(limit: Int, now: Double) {
        let elapsed = max(0, now - updatedAt)
        tokens = min(Double(limit), tokens + elapsed * Double(limit) / 60)
        updatedAt = now
    }
}

import Threading

/// Slows down password guessing: after a failed AUTH from an address, its next answer waits 1 s, then 2, 4,
/// … up to 30 s, until an AUTH from it succeeds or it has been quiet for 15 minutes. Per address, not per
/// session, so reconnecting does not reset it.
final class AuthFailureDelay: Sendable {
    private struct Record {
        var failures: Int
        var lastFailure: ContinuousClock.Instant
    }

    static let maximum = Duration.seconds(30)
    static let forgetAfter = Duration.seconds(15 * 60)

    private let records = Locked<[String: Record]>([:])

    /// How long to wait before answering the next AUTH from `address`.
    func delay(for address: String, now: ContinuousClock.Instant = .now) -> Duration {
        records.withLock { records in
            guard let record = records[address] else { return .zero }
            if now - record.lastFailure >= Self.forgetAfter {
                records[address] = nil
                return .zero
            }
            return Self.delay(afterFailures: record.failures)
        }
    }

    /// 1 s after the first failure, doubling, at most `maximum`.
    static func delay(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        return min(.seconds(1 << min(failures - 1, 5)), maximum)
    }

    func recordFailure(_ address: String, now: ContinuousClock.Instant = .now) {
        records.withLock { records in
            if records.count > 10_000 {  // a flood of addresses: drop the ones that went quiet
                records = records.filter { now - $0.value.lastFailure < Self.forgetAfter }
            }
            let failures = (records[address]?.failures ?? 0) + 1
            records[address] = Record(failures: failures, lastFailure: now)
        }
    }

    func recordSuccess(_ address: String) {
        _ = records.withLock { $0.removeValue(forKey: address) }
    }
}

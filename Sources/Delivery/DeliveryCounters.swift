/// Recipient outcomes of the last hour in one-minute buckets, for `relayctl stats`.
///
/// Sixty buckets, one per minute of the hour, each stamped with the minute it counts: a bucket whose stamp
/// is an hour old or more is reset when its slot comes round again and ignored until then, so memory stays
/// fixed and nothing needs a timer. The window is therefore the current minute and the 59 before it. Times
/// are passed in, so tests choose the clock.
struct DeliveryCounters: Sendable, Equatable {
    /// Outcomes counted in one window.
    struct Totals: Sendable, Equatable {
        var sent = 0
        var deferred = 0
        var bounced = 0
    }

    private struct Bucket: Sendable, Equatable {
        var minute = Int.min
        var totals = Totals()
    }

    static let minutes = 60
    private var buckets = [Bucket](repeating: Bucket(), count: DeliveryCounters.minutes)

    /// Counts each recipient's outcome at `now` (seconds since the epoch) by its status (`sent`, `deferred`,
    /// `bounced`).
    mutating func add(_ recipients: [AttemptRecord.Recipient], at now: Double) {
        let minute = Self.minute(of: now)
        let slot = Self.slot(of: minute)
        if buckets[slot].minute != minute { buckets[slot] = Bucket(minute: minute) }
        for recipient in recipients {
            switch recipient.status {
            case .sent: buckets[slot].totals.sent += 1
            case .deferred: buckets[slot].totals.deferred += 1
            case .bounced: buckets[slot].totals.bounced += 1
            }
        }
    }

    /// The outcomes of the hour up to `now`.
    func totals(at now: Double) -> Totals {
        let current = Self.minute(of: now)
        var totals = Totals()
        for bucket in buckets where bucket.minute > current - Self.minutes && bucket.minute <= current {
            totals.sent += bucket.totals.sent
            totals.deferred += bucket.totals.deferred
            totals.bounced += bucket.totals.bounced
        }
        return totals
    }

    private static func minute(of time: Double) -> Int { Int((time / 60).rounded(.down)) }

    private static func slot(of minute: Int) -> Int {
        let slot = minute % minutes
        return slot < 0 ? slot + minutes : slot
    }
}

import Spool
import Threading

/// The outcomes of the last attempts, and requests waiting for a message's next one: `relayctl send-test`
/// asks for the outcome of a message it has just sent, which may have been delivered (and removed from the
/// queue) before the request arrives.
final class AttemptHistory: Sendable {
    private struct Waiter {
        var id: QueueID
        var continuation: CheckedContinuation<AttemptRecord?, Never>
    }

    private struct State {
        /// A ring: oldest overwritten first once full; `nextSlot` is where the next record goes.
        var records: [AttemptRecord] = []
        var nextSlot = 0
        var waiters: [Int: Waiter] = [:]
        /// Waits cancelled before they registered, so they do not register afterwards.
        var cancelled: Set<Int> = []
        var nextToken = 0

        func latest(for id: QueueID) -> AttemptRecord? {
            guard !records.isEmpty else { return nil }
            for back in 1...records.count {
                let record = records[(nextSlot - back + records.count) % records.count]
                if record.id == id { return record }
            }
            return nil
        }
    }

    let capacity: Int
    private let state = Locked(State())

    init(capacity: Int = 1_000) {
        self.capacity = max(capacity, 1)
    }

    /// Keeps `record` (forgetting the oldest beyond the capacity) and wakes every request waiting for it.
    func record(_ record: AttemptRecord) {
        let woken = state.withLock { state -> [CheckedContinuation<AttemptRecord?, Never>] in
            if state.records.count < capacity {
                state.records.append(record)
            } else {
                state.records[state.nextSlot] = record
            }
            state.nextSlot = (state.nextSlot + 1) % capacity
            let tokens = state.waiters.filter { $0.value.id == record.id }.map(\.key)
            return tokens.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
        }
        for continuation in woken { continuation.resume(returning: record) }
    }

    /// The most recent recorded outcome for `id`, or else the next one, or nil once `timeout` passes (or the
    /// calling task is cancelled). A request that gives up leaves nothing behind.
    func outcome(of id: QueueID, timeout: Duration) async -> AttemptRecord? {
        if let known = state.withLock({ $0.latest(for: id) }) { return known }
        guard timeout > .zero else { return nil }
        let token = state.withLock { state -> Int in
            defer { state.nextToken &+= 1 }
            return state.nextToken
        }
        return await withTaskGroup(of: AttemptRecord?.self) { group in
            group.addTask { await self.next(for: id, token: token) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()  // the other child: a wait is unregistered, a sleep ends
            return first
        }
    }

    /// Requests waiting now; for tests that check a timed-out request left nothing behind.
    var waiterCount: Int { state.withLock { $0.waiters.count + $0.cancelled.count } }

    private func next(for id: QueueID, token: Int) async -> AttemptRecord? {
        let record = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<AttemptRecord?, Never>) in
                let immediate = state.withLock { state -> AttemptRecord?? in
                    if let known = state.latest(for: id) { return .some(known) }
                    if state.cancelled.remove(token) != nil { return .some(nil) }
                    state.waiters[token] = Waiter(id: id, continuation: continuation)
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                if let waiter = state.waiters.removeValue(forKey: token) { return waiter }
                state.cancelled.insert(token)
                return nil
            }
            waiter?.continuation.resume(returning: nil)
        }
        // A cancellation that came after a record had already woken this wait left its mark; drop it.
        state.withLock { _ = $0.cancelled.remove(token) }
        return record
    }
}

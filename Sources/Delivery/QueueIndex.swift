import Spool

/// The queue runner's memory of what is queued: ready to try, waiting for a retry time, or in flight.
///
/// It is rebuilt from the spool at every start and kept in step by hints and scans; the spool stays the
/// truth. An id is known at most once, so a hint and a scan that both report a message never deliver it twice.
///
/// An operator's change (`relayctl hold`, `delete`, …) first takes the message with `take`: that waits while
/// an attempt on it is in flight, and from then until `giveBack` the message is neither handed to a worker
/// nor made ready by its retry time, a flush or a new offer. The hand-over from the ending attempt to the
/// waiting change happens inside the actor, so no new attempt can start in between.
actor QueueIndex {
    /// Where a message stands when it is neither in flight nor taken.
    enum Position: Sendable, Equatable {
        /// Not in the index: finished, held, deleted, or not offered yet.
        case absent
        case ready
        case waiting(until: Double)
    }

    /// What an operator's change learns when it gets the message.
    struct Taken: Sendable, Equatable {
        /// Where the message stood; hand it back there unless the change moves it.
        var position: Position
        /// An attempt on the message ended while the change waited for it.
        var attemptEnded: Bool
    }

    private struct PendingTake {
        var continuation: CheckedContinuation<Taken, Never>
        var attemptEnded = false
    }

    private var known: Set<QueueID> = []
    private var ready: [QueueID] = []
    private var readyHead = 0
    /// The ids in `ready` still to hand out. A `ready` entry missing here was taken by an operator's change
    /// meanwhile and is skipped; removing it from the middle of the array would cost a copy of the queue.
    private var readyMembers: Set<QueueID> = []
    private var waiting: [QueueID: Double] = [:]
    private var inFlight: Set<QueueID> = []
    private var taken: Set<QueueID> = []
    /// Changes waiting for an attempt or an earlier change on the same id, in arrival order.
    private var pendingTakes: [QueueID: [PendingTake]] = [:]
    private var workers: [CheckedContinuation<QueueID?, Never>] = []
    private var closed = false

    /// Adds a message if not already known: ready now if due at `now`, else scheduled.
    func offer(_ id: QueueID, dueAt: Double, now: Double) {
        guard !closed, known.insert(id).inserted else { return }
        if dueAt <= now { makeReady(id) } else { waiting[id] = dueAt }
    }

    /// Moves messages whose retry time has come to the ready list.
    func releaseDue(now: Double) {
        for (id, due) in waiting where due <= now {
            waiting[id] = nil
            makeReady(id)
        }
    }

    /// Makes every waiting message (or only `ids`) ready now, and returns how many: `relayctl flush`.
    /// Held messages are not in the index, so a flush never reaches them.
    @discardableResult
    func flush(_ ids: Set<QueueID>? = nil) -> [QueueID] {
        var flushed: [QueueID] = []
        for id in waiting.keys where ids?.contains(id) ?? true {
            waiting[id] = nil
            makeReady(id)
            flushed.append(id)
        }
        return flushed
    }

    /// The next message to deliver; nil once the index is closed for shutdown.
    func next() async -> QueueID? {
        if closed { return nil }
        while readyHead < ready.count {
            let id = ready[readyHead]
            readyHead += 1
            if readyHead > 1024, readyHead * 2 > ready.count {
                ready.removeFirst(readyHead)
                readyHead = 0
            }
            if readyMembers.remove(id) != nil {
                inFlight.insert(id)
                return id
            }
        }
        return await withCheckedContinuation { workers.append($0) }
    }

    /// The attempt ended and the message left the queue (delivered, or retired into `failed/`).
    func finished(_ id: QueueID) {
        guard inFlight.remove(id) != nil else { return }
        settle(id, at: .absent, attemptEnded: true)
    }

    /// The attempt found nothing to deliver (the message was deleted, or is held) and dropped it.
    func skipped(_ id: QueueID) {
        guard inFlight.remove(id) != nil else { return }
        settle(id, at: .absent, attemptEnded: false)
    }

    /// The attempt ended with recipients outstanding; try again at `dueAt`.
    func deferred(_ id: QueueID, until dueAt: Double) {
        guard inFlight.remove(id) != nil else { return }
        settle(id, at: .waiting(until: dueAt), attemptEnded: true)
    }

    /// Takes a message for an operator's change: waits while an attempt on it is in flight (or another
    /// change has it), then keeps it from workers until `giveBack`. Works for ids the index does not know.
    func take(_ id: QueueID) async -> Taken {
        if !inFlight.contains(id), !taken.contains(id) {
            return Taken(position: detach(id), attemptEnded: false)
        }
        return await withCheckedContinuation { pendingTakes[id, default: []].append(PendingTake(continuation: $0)) }
    }

    /// Ends an operator's change: the message goes to `position` (absent once deleted or held), or to the
    /// next change waiting for it.
    func giveBack(_ id: QueueID, at position: Position) {
        guard taken.remove(id) != nil else { return }
        settle(id, at: position, attemptEnded: false)
    }

    /// Stops handing out work; idle workers get nil and end. Attempts in flight still end, and changes
    /// waiting for them still get their message.
    func close() {
        closed = true
        for worker in workers { worker.resume(returning: nil) }
        workers.removeAll()
    }

    var counts: (ready: Int, waiting: Int, known: Int) { (readyMembers.count, waiting.count, known.count) }

    /// The messages being delivered now.
    var active: Set<QueueID> { inFlight }

    /// Operator changes waiting for `id`; for tests that need a change to be waiting before they go on.
    func pendingTakeCount(for id: QueueID) -> Int { pendingTakes[id]?.count ?? 0 }

    /// Takes `id` out of the ready and waiting lists for a change, returning where it stood. It stays known,
    /// so a hint or scan offering it meanwhile is ignored; the change puts it back where it belongs.
    private func detach(_ id: QueueID) -> Position {
        let position: Position
        if let due = waiting.removeValue(forKey: id) {
            position = .waiting(until: due)
        } else if readyMembers.remove(id) != nil {
            position = .ready
        } else {
            position = .absent
        }
        known.insert(id)
        taken.insert(id)
        return position
    }

    /// Places a message that is no longer in flight or taken, or hands it straight to the next change
    /// waiting for it, so nothing can start an attempt in between.
    private func settle(_ id: QueueID, at position: Position, attemptEnded: Bool) {
        if var pending = pendingTakes.removeValue(forKey: id), !pending.isEmpty {
            if attemptEnded { for i in pending.indices { pending[i].attemptEnded = true } }
            let next = pending.removeFirst()
            if !pending.isEmpty { pendingTakes[id] = pending }
            known.insert(id)
            taken.insert(id)
            next.continuation.resume(returning: Taken(position: position, attemptEnded: next.attemptEnded))
            return
        }
        switch position {
        case .absent:
            known.remove(id)
        case .ready:
            known.insert(id)
            if !closed { makeReady(id) }
        case .waiting(let due):
            known.insert(id)
            if !closed { waiting[id] = due }
        }
    }

    private func makeReady(_ id: QueueID) {
        if !workers.isEmpty {
            inFlight.insert(id)
            workers.removeFirst().resume(returning: id)
        } else {
            ready.append(id)
            readyMembers.insert(id)
        }
    }
}

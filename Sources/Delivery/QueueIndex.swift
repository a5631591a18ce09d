import Spool

/// The queue runner's memory of what is queued: ready to try, waiting for a retry time, or in flight.
///
/// It is rebuilt from the spool at every start and kept in step by hints and scans; the spool stays the
/// truth. An id is known at most once, so a hint and a scan that both report a message never deliver it twice.
actor QueueIndex {
    private var known: Set<QueueID> = []
    private var ready: [QueueID] = []
    private var readyHead = 0
    private var waiting: [QueueID: Double] = [:]
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

    /// Makes every waiting message (or only `ids`) ready now: `relayctl flush`.
    func flush(_ ids: Set<QueueID>? = nil) {
        for id in waiting.keys where ids?.contains(id) ?? true {
            waiting[id] = nil
            makeReady(id)
        }
    }

    /// The next message to deliver; nil once the index is closed for shutdown.
    func next() async -> QueueID? {
        if closed { return nil }
        if readyHead < ready.count {
            let id = ready[readyHead]
            readyHead += 1
            if readyHead > 1024, readyHead * 2 > ready.count {
                ready.removeFirst(readyHead)
                readyHead = 0
            }
            return id
        }
        return await withCheckedContinuation { workers.append($0) }
    }

    /// The attempt ended and the message left the queue.
    func finished(_ id: QueueID) {
        known.remove(id)
    }

    /// The attempt ended with recipients outstanding; try again at `dueAt`.
    func deferred(_ id: QueueID, until dueAt: Double) {
        guard known.contains(id), !closed else { return }
        waiting[id] = dueAt
    }

    /// Stops handing out work; idle workers get nil and end.
    func close() {
        closed = true
        for worker in workers { worker.resume(returning: nil) }
        workers.removeAll()
    }

    var counts: (ready: Int, waiting: Int, known: Int) { (ready.count - readyHead, waiting.count, known.count) }

    private func makeReady(_ id: QueueID) {
        if !workers.isEmpty {
            workers.removeFirst().resume(returning: id)
        } else {
            ready.append(id)
        }
    }
}

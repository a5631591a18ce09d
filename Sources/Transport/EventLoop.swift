#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Threading
import CLinux

/// One epoll thread that wakes the tasks waiting for their sockets to become readable or writable, and
/// runs those tasks itself.
///
/// Sockets stay non-blocking; a task that meets EAGAIN suspends in `wait(for:on:deadline:)` until epoll
/// reports the descriptor ready. Registrations are one-shot so a readiness event is delivered to exactly one
/// waiter. Deadlines are checked on a coarse tick (a quarter second), which is plenty for SMTP timeouts and
/// keeps the loop O(ready descriptors) rather than O(sessions).
///
/// The loop is also a `TaskExecutor`: session tasks started with it as their executor preference run on
/// this thread between `epoll_wait` calls, as on a NIO event loop. A socket becoming ready then resumes its
/// task without a hand-off to another thread; measured, that hand-off (a futex wake per round trip) was the
/// largest cost of an SMTP exchange.
public final class EventLoop: TaskExecutor, Sendable {
    /// Which readiness a task waits for.
    public enum Interest: Sendable { case readable, writable }

    /// The loop of the SMTP listener and its sessions, and the default for every connection.
    public static let shared = EventLoop()

    private struct Waiter {
        var id: UInt64
        var deadline: ContinuousClock.Instant?
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Registration {
        var read: Waiter?
        var write: Waiter?
        var inEpoll = false
        /// Set by `interruptReads`: this and every later read wait fails with `.cancelled`.
        var readsInterrupted = false
        /// Who opened the descriptor (`open(_:)`), so a call made for an earlier holder of the same number is
        /// told apart from one made for the current holder.
        var owner: UInt64 = 0
    }

    private struct State {
        var registrations: [Int32: Registration] = [:]
        var nextWaiterID: UInt64 = 0
        var nextOwner: UInt64 = 0
    }

    private let epollFD: Int32
    private let wakeFD: Int32
    private let state = Locked(State())
    private let jobs = Locked<[UnownedJob]>([])
    private let wakePending = Atomic<Bool>(false)
    private let loopThread = Atomic<UInt>(0)
    private static let tick = Duration.milliseconds(250)

    /// A loop with a thread of its own. relayd gives delivery one: its upstream sockets and the workers
    /// driving them then share a thread, so an upstream reply resumes its worker without a hand-off, and
    /// receiving keeps `shared` to itself (measured: 0.66 → 0.56 CPU-ms per relayed message, and 1.2× the
    /// accepted rate, in the relay benchmark).
    public init() {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(epollFD >= 0 && wakeFD >= 0, "epoll/eventfd unavailable")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeFD
        epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event)
        let started = DetachedThread.start { [self] in run() }
        precondition(started == 0, "cannot start the event loop thread")
    }

    /// Suspends until `fd` is ready for `interest`, the deadline passes (`TransportError.timedOut`), the
    /// descriptor is released (`.closed`) or the task is cancelled (`.cancelled`).
    ///
    /// `stillOpen` is asked with the loop's lock held before the wait is registered: a descriptor
    /// another thread may close meanwhile (a listener's) fails with `.closed` instead of registering a wait on
    /// a number that may already belong to another socket. Such a `close` must make `stillOpen` false before
    /// it calls `release`.
    public func wait(
        for interest: Interest, on fd: Int32, deadline: ContinuousClock.Instant?,
        stillOpen: () -> Bool = { true }
    ) async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked under the lock: onCancel takes the same lock, so either it sees the waiter or we see
                // the cancellation; checking before locking could lose a cancellation in between.
                let failure: (any Error)? = state.withLock { s -> (any Error)? in
                    if Task.isCancelled { return TransportError.cancelled }
                    if !stillOpen() { return TransportError.closed }
                    var registration = s.registrations[fd] ?? Registration()
                    if interest == .readable, registration.readsInterrupted { return TransportError.cancelled }
                    let waiter = Waiter(id: id, deadline: deadline, continuation: continuation)
                    switch interest {
                    case .readable: registration.read = waiter
                    case .writable: registration.write = waiter
                    }
                    if let error = arm(fd, &registration) { return error }
                    s.registrations[fd] = registration
                    return nil
                }
                if let failure { continuation.resume(throwing: failure) }
            }
        } onCancel: {
            resume(fd: fd, waiterID: id, with: TransportError.cancelled)
        }
    }

    /// Runs a job of a task that prefers this executor, on the loop thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        jobs.withLock { $0.append(unowned) }
        if pthread_self() != loopThread.load(ordering: .relaxed),
           !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
    }

    /// Runs the jobs queued so far (one batch: jobs they enqueue wait for the next turn, so sockets are
    /// polled between batches and a busy loop cannot starve I/O readiness).
    private func runJobs() {
        let batch = jobs.withLock { queued -> [UnownedJob] in
            let batch = queued
            queued.removeAll(keepingCapacity: true)
            return batch
        }
        let executor = asUnownedTaskExecutor()
        for job in batch { job.runSynchronously(on: executor) }
    }

    /// Takes charge of a newly opened descriptor and returns the owner token `interruptReads` needs. A number
    /// the kernel hands out again starts clean: an interruption meant for its previous holder does not carry
    /// over.
    public func open(_ fd: Int32) -> UInt64 {
        let (owner, stale) = state.withLock { s -> (UInt64, [Waiter]) in
            s.nextOwner += 1
            let previous = s.registrations[fd]
            // Keep `inEpoll`: a connect waits on its descriptor before the connection owns it.
            s.registrations[fd] = Registration(inEpoll: previous?.inEpoll ?? false, owner: s.nextOwner)
            return (s.nextOwner, [previous?.read, previous?.write].compactMap { $0 })
        }
        for waiter in stale { waiter.continuation.resume(throwing: TransportError.closed) }
        return owner
    }

    /// Makes the pending and all later read waits on `fd` fail with `.cancelled`: how an idle session is told
    /// to leave at shutdown without cancelling its task (a busy one must finish its message first).
    /// `owner` is what `open` returned; once the descriptor is released (and perhaps reused) this does nothing,
    /// so another thread may call it while the owner closes the connection.
    public func interruptReads(on fd: Int32, owner: UInt64) {
        let waiter = state.withLock { s -> Waiter? in
            guard var registration = s.registrations[fd], registration.owner == owner else { return nil }
            registration.readsInterrupted = true
            let waiter = registration.read
            registration.read = nil
            s.registrations[fd] = registration
            return waiter
        }
        waiter?.continuation.resume(throwing: TransportError.cancelled)
    }

    /// Forgets `fd` before it is closed, failing any waiter with `.closed`, so a reused number starts clean.
    public func release(_ fd: Int32) {
        let waiters = state.withLock { s -> [Waiter] in
            guard let registration = s.registrations.removeValue(forKey: fd) else { return [] }
            if registration.inEpoll { epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil) }
            return [registration.read, registration.write].compactMap { $0 }
        }
        for waiter in waiters { waiter.continuation.resume(throwing: TransportError.closed) }
    }

    /// (Re)arms the one-shot registration for whatever is still awaited. Called with the lock held.
    private func arm(_ fd: Int32, _ registration: inout Registration) -> TransportError? {
        var mask: UInt32 = EPOLLONESHOT.rawValue | EPOLLRDHUP.rawValue
        if registration.read != nil { mask |= EPOLLIN.rawValue }
        if registration.write != nil { mask |= EPOLLOUT.rawValue }
        var event = epoll_event()
        event.events = mask
        event.data.fd = fd
        if registration.inEpoll {
            if epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) == 0 { return nil }
        }
        if epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 {
            registration.inEpoll = true
            return nil
        }
        if errno == EEXIST, epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &event) == 0 {
            registration.inEpoll = true
            return nil
        }
        return TransportError.lastError("epoll_ctl")
    }

    private func resume(fd: Int32, waiterID: UInt64, with error: any Error) {
        let waiter = state.withLock { s -> Waiter? in
            guard var registration = s.registrations[fd] else { return nil }
            var found: Waiter?
            if registration.read?.id == waiterID { found = registration.read; registration.read = nil }
            if registration.write?.id == waiterID { found = registration.write; registration.write = nil }
            s.registrations[fd] = registration
            return found
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// The loop body, run forever on the dedicated thread.
    private func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        var nextTimeoutScan = ContinuousClock.now + EventLoop.tick
        loopThread.store(pthread_self(), ordering: .relaxed)
        while true {
            runJobs()
            let pending = jobs.withLock { !$0.isEmpty }
            let count = epoll_wait(epollFD, events, Int32(capacity), pending ? 0 : 250)
            if count < 0, errno != EINTR { fatalError("epoll_wait: \(errno)") }
            var ready: [(CheckedContinuation<Void, any Error>, (any Error)?)] = []
            state.withLock { s in
                for i in 0..<Int(max(count, 0)) {
                    let fd = events[i].data.fd
                    if fd == wakeFD {
                        var value: UInt64 = 0
                        _ = read(wakeFD, &value, 8)
                        wakePending.store(false, ordering: .releasing)
                        continue
                    }
                    guard var registration = s.registrations[fd] else { continue }
                    let flags = events[i].events
                    let failed = flags & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0
                    if flags & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 || failed, let waiter = registration.read {
                        ready.append((waiter.continuation, nil))
                        registration.read = nil
                    }
                    if flags & EPOLLOUT.rawValue != 0 || failed, let waiter = registration.write {
                        ready.append((waiter.continuation, nil))
                        registration.write = nil
                    }
                    if registration.read != nil || registration.write != nil {
                        _ = arm(fd, &registration)
                    }
                    s.registrations[fd] = registration
                }
                let now = ContinuousClock.now
                if now >= nextTimeoutScan {
                    nextTimeoutScan = now + EventLoop.tick
                    for (fd, var registration) in s.registrations {
                        var changed = false
                        if let w = registration.read, let d = w.deadline, d <= now {
                            ready.append((w.continuation, TransportError.timedOut))
                            registration.read = nil
                            changed = true
                        }
                        if let w = registration.write, let d = w.deadline, d <= now {
                            ready.append((w.continuation, TransportError.timedOut))
                            registration.write = nil
                            changed = true
                        }
                        if changed { s.registrations[fd] = registration }
                    }
                }
            }
            for (continuation, error) in ready {
                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
            }
        }
    }
}

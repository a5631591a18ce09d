#if canImport(Glibc)
import Glibc
#endif

/// A value only reachable while holding its pthread mutex: our `Synchronization.Mutex`, in a form
/// ThreadSanitizer can follow.
///
/// Why not `Synchronization.Mutex`: on Linux a contended `Mutex` is handed from thread to thread by the kernel
/// (`FUTEX_LOCK_PI`), so the waiter never performs the atomic read ThreadSanitizer needs to see the
/// happens-before edge, and every contended hand-over is reported as a data race (docs/testing.md,
/// Sanitizers). TSan intercepts `pthread_mutex_lock`/`unlock`, so with this lock a report means a real race.
/// Uncontended, both cost one atomic exchange; this one adds a call.
public struct Locked<State>: ~Copyable, @unchecked Sendable {
    private let storage: Storage

    public init(_ initial: consuming State) {
        storage = Storage.make(initial)
    }

    /// Runs `body` with the lock held and the value lent to it.
    public func withLock<Result, E: Error>(_ body: (inout State) throws(E) -> Result) throws(E) -> Result {
        try storage.withLock(body)
    }

    /// The state and the mutex in one allocation: the mutex needs an address that never moves.
    private final class Storage: ManagedBuffer<State, pthread_mutex_t> {
        static func make(_ initial: State) -> Storage {
            let buffer = create(minimumCapacity: 1) { _ in initial }
            let storage = unsafeDowncast(buffer, to: Storage.self)
            storage.withUnsafeMutablePointerToElements { mutex in
                mutex.initialize(to: pthread_mutex_t())
                let result = pthread_mutex_init(mutex, nil)
                precondition(result == 0, "pthread_mutex_init failed: \(result)")
            }
            return storage
        }

        func withLock<Result, E: Error>(_ body: (inout State) throws(E) -> Result) throws(E) -> Result {
            try withUnsafeMutablePointers { (state, mutex) throws(E) -> Result in
                let locked = pthread_mutex_lock(mutex)
                precondition(locked == 0, "pthread_mutex_lock failed: \(locked)")
                defer { pthread_mutex_unlock(mutex) }
                return try body(&state.pointee)
            }
        }

        deinit {
            withUnsafeMutablePointerToElements { mutex in
                pthread_mutex_destroy(mutex)
                mutex.deinitialize(count: 1)
            }
        }
    }
}

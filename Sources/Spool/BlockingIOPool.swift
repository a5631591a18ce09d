#if canImport(Glibc)
import Glibc
#endif
import Threading

/// A few threads for blocking disk work (reads, scans, state rewrites) so it never runs on the
/// cooperative pool (two threads here) or the event loop thread.
public final class BlockingIOPool: Sendable {
    private let jobs = Locked<[@Sendable () -> Void]>([])
    private let wakeup = CountingSemaphore()

    public init(threads: Int) {
        for _ in 0..<threads {
            let started = DetachedThread.start { [self] in
                while true { next()() }
            }
            precondition(started == 0, "cannot start a disk thread: pthread_create returned \(started)")
        }
    }

    /// Runs `body` on a pool thread and returns its result.
    public func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            jobs.withLock { $0.append({
                do throws(E) { continuation.resume(returning: .success(try body())) }
                catch { continuation.resume(returning: .failure(error)) }
            }) }
            wakeup.post()
        }
        return try result.get()
    }

    private func next() -> @Sendable () -> Void {
        while true {
            wakeup.wait()
            if let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return job }
        }
    }
}

/// sem_t wrapped for Swift.
final class CountingSemaphore: @unchecked Sendable {
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    init() { sem_init(semaphore, 0, 0) }
    func post() { sem_post(semaphore) }
    func wait() { while sem_wait(semaphore) != 0 {} }
}

#if canImport(Glibc)
import Glibc
#endif
import CLinux
import CoreMetrics
import Synchronization
import Threading

/// Runs file-system jobs on one dedicated thread and makes each batch durable with a single `syncfs(2)`.
///
/// This is the group commit the design asks for. Every job in a batch writes and renames its files without
/// its own fsync; then one `syncfs` on the spool's file system flushes all their data and directory entries
/// together, and only then does any caller learn that its job is done. Measured on this machine's ext4
/// (docs/ARCHITECTURE.md): fsync per file ~1,800 files/s, 20 parallel fsyncs ~2,400/s, batches of 20 with
/// one syncfs ~5,200/s. Callers that arrive while a sync runs wait for the next batch, because their writes
/// may have missed the current one.
public final class GroupCommitQueue: Sendable {
    private struct Job: Sendable {
        var work: @Sendable () -> Void
        var complete: @Sendable (_ syncError: SpoolError?) -> Void
    }

    private struct State {
        var pending: [Job] = []
    }

    private let name: String
    private let syncFD: Int32
    /// The file system (st_dev) one batch's `syncfs` makes durable.
    public let device: UInt64
    private let syncPath: String
    private let state = Locked(State())
    private let wakeup: ConditionSignal
    /// Batches made durable so far; a figure for tests and metrics.
    public let batches = Atomic<Int>(0)

    /// Each batch's `syncfs` time, when someone exports it (the spool's queue: `mailrelay_spool_sync_seconds`).
    private let syncDuration: CoreMetrics.Timer?

    /// `syncPath` is any directory on the file system to make durable (the spool root); `syncDuration`, if
    /// given, records how long each batch's `syncfs` took.
    public init(name: String, syncPath: String, syncDuration: CoreMetrics.Timer? = nil) throws(SpoolError) {
        let fd = open(syncPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SpoolError.fromErrno("open", syncPath) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SpoolError.fromErrno("fstat", syncPath) }
        self.device = UInt64(info.st_dev)
        self.name = name
        self.syncFD = fd
        self.syncPath = syncPath
        self.syncDuration = syncDuration
        self.wakeup = ConditionSignal()
        let started = DetachedThread.start { [self] in run() }
        precondition(started == 0, "cannot start the spool's commit thread: pthread_create returned \(started)")
    }

    /// Runs `work` on the commit thread and returns once its batch is durable.
    public func commit<T: Sendable>(_ work: @escaping @Sendable () throws(SpoolError) -> T) async throws(SpoolError) -> T {
        let result: Result<T, SpoolError> = await withCheckedContinuation { continuation in
            let outcome = Locked<Result<T, SpoolError>?>(nil)
            let job = Job(
                work: {
                    let result: Result<T, SpoolError>
                    do throws(SpoolError) { result = .success(try work()) } catch { result = .failure(error) }
                    outcome.withLock { $0 = result }
                },
                complete: { syncError in
                    let result = outcome.withLock { $0 }!
                    if case .success = result, let syncError {
                        continuation.resume(returning: .failure(syncError))
                    } else {
                        continuation.resume(returning: result)
                    }
                }
            )
            state.withLock { $0.pending.append(job) }
            wakeup.signal()
        }
        return try result.get()
    }

    private func run() {
        while true {
            wakeup.wait()
            let jobs = state.withLock { s -> [Job] in
                let jobs = s.pending
                s.pending.removeAll(keepingCapacity: true)
                return jobs
            }
            if jobs.isEmpty { continue }
            for job in jobs { job.work() }
            let started = ContinuousClock.now
            let syncError: SpoolError? = mr_syncfs(syncFD) == 0 ? nil : SpoolError.fromErrno("syncfs", syncPath)
            if let syncDuration {
                let (seconds, attoseconds) = started.duration(to: .now).components
                syncDuration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
            }
            batches.add(1, ordering: .relaxed)
            for job in jobs { job.complete(syncError) }
        }
    }
}

/// A counting wake-up between submitters and the commit thread.
final class ConditionSignal: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var signalled = false

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    func signal() {
        pthread_mutex_lock(&mutex)
        signalled = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func wait() {
        pthread_mutex_lock(&mutex)
        while !signalled { pthread_cond_wait(&condition, &mutex) }
        signalled = false
        pthread_mutex_unlock(&mutex)
    }
}

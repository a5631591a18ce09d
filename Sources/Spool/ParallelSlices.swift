#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Runs `work(slice)` for every slice in `0..<count` on `threads` threads of its own (the caller's among
/// them), each taking the next slice until none is left, and returns when all are done.
///
/// For reading many small files: when they are not in the page cache, each read waits for the disk, and
/// more reads in flight than cores keep the disk's queue full (measured on 100,000 evicted files: see
/// `SpoolReader`); with everything cached the extra threads cost next to nothing.
enum ParallelSlices {
    private final class Shared: Sendable {
        let next = Atomic<Int>(0)
        let count: Int
        let work: @Sendable (Int) -> Void

        init(count: Int, work: @escaping @Sendable (Int) -> Void) {
            self.count = count
            self.work = work
        }

        func drain() {
            while true {
                let slice = next.add(1, ordering: .relaxed).oldValue
                guard slice < count else { return }
                work(slice)
            }
        }
    }

    static func run(count: Int, threads: Int, _ work: @escaping @Sendable (Int) -> Void) {
        let shared = Shared(count: count, work: work)
        var started: [pthread_t] = []
        for _ in 1..<max(1, min(threads, count)) {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(shared).toOpaque()
            let result = pthread_create(&thread, nil, { raw in
                Unmanaged<Shared>.fromOpaque(raw!).takeRetainedValue().drain()
                return nil
            }, box)
            if result == 0 {
                started.append(thread)
            } else {
                Unmanaged<Shared>.fromOpaque(box).release()  // fewer helpers; the caller drains the rest
            }
        }
        shared.drain()
        for thread in started { pthread_join(thread, nil) }
    }
}

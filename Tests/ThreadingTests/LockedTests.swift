#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import Threading

@Suite struct LockedTests {
    /// Runs `body` on `count` detached threads at once and returns when all have finished.
    private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) async {
        let remaining = Locked(count)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            for index in 0..<count {
                let started = DetachedThread.start {
                    body(index)
                    if remaining.withLock({ $0 -= 1; return $0 == 0 }) { continuation.resume() }
                }
                #expect(started == 0)
            }
        }
    }

    @Test func excludesConcurrentWriters() async {
        // A read-modify-write that is not atomic: without mutual exclusion some increments are lost.
        let counter = Locked((value: 0, maxInside: 0, inside: 0))
        await onThreads(4) { _ in
            for _ in 0..<20_000 {
                counter.withLock { state in
                    state.inside += 1
                    state.maxInside = max(state.maxInside, state.inside)
                    state.value = state.value &+ 1
                    state.inside -= 1
                }
            }
        }
        let final = counter.withLock { $0 }
        #expect(final.value == 80_000)
        #expect(final.maxInside == 1)
    }

    struct Refused: Error, Equatable { let at: Int }

    @Test func anErrorLeavesTheChangeMadeAndTheLockFree() {
        let numbers = Locked([Int]())
        #expect(throws: Refused(at: 1)) {
            try numbers.withLock { (list: inout [Int]) throws(Refused) in
                list.append(1)
                throw Refused(at: list.count)
            }
        }
        // Had the throw left the mutex held, this would deadlock rather than fail.
        #expect(numbers.withLock { $0 } == [1])
    }

    final class Flag: Sendable {
        let isSet = Atomic(false)
    }

    final class Witness: Sendable {
        let released: Flag
        init(_ released: Flag) { self.released = released }
        deinit { released.isSet.store(true, ordering: .sequentiallyConsistent) }
    }

    @Test func releasesItsValueWhenDropped() {
        let released = Flag()
        do {
            let holder = Locked(Witness(released))
            let whileHeld = holder.withLock { _ in released.isSet.load(ordering: .sequentiallyConsistent) }
            #expect(whileHeld == false)
        }
        let afterwards = released.isSet.load(ordering: .sequentiallyConsistent)
        #expect(afterwards)
    }

    @Test func detachedThreadRunsElsewhere() async {
        let caller = pthread_self()
        let ran = Locked<pthread_t?>(nil)
        await onThreads(1) { _ in ran.withLock { $0 = pthread_self() } }
        let thread = ran.withLock { $0 }
        #expect(thread != nil)
        #expect(pthread_equal(thread!, caller) == 0)
    }
}

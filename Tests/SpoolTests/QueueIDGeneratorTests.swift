#if canImport(Glibc)
import Glibc
#endif
import Spool
import Synchronization
import Testing

@Suite("QueueIDGenerator")
struct QueueIDGeneratorTests {
    @Test func strictlyIncreasingOver100kCalls() {
        let generator = QueueIDGenerator()
        var previous = generator.next()
        var seen: Set<QueueID> = [previous]
        var violations = 0
        for _ in 0..<100_000 {
            let id = generator.next()
            if !(previous < id) { violations += 1 }
            seen.insert(id)
            previous = id
        }
        #expect(violations == 0)
        #expect(seen.count == 100_001)
    }

    @Test func uniqueAcrossThreads() async {
        let generator = QueueIDGenerator()
        let all = await withTaskGroup(of: [QueueID].self) { group in
            for _ in 0..<4 {
                group.addTask { (0..<25_000).map { _ in generator.next() } }
            }
            var all: [QueueID] = []
            for await ids in group {
                #expect(ids == ids.sorted() && Set(ids).count == ids.count, "each caller sees increasing ids")
                all += ids
            }
            return all
        }
        #expect(Set(all).count == 100_000)
    }

    @Test func encodesTheCurrentTime() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let before = UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
        let id = QueueIDGenerator().next()
        clock_gettime(CLOCK_REALTIME, &now)
        let after = UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
        #expect(id.milliseconds >= before && id.milliseconds <= after + 1)
    }

    @Test func laterGeneratorsSortAfterEarlierIDs() async throws {
        let first = QueueIDGenerator().next()
        try await Task.sleep(for: .milliseconds(5))
        let second = QueueIDGenerator().next()
        #expect(first < second, "ids of a restarted relayd sort after the old ones")
    }
}

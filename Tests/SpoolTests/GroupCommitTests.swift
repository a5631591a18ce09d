import RelayTesting
@testable import Spool
import Synchronization
import Testing

@Suite("Group commit")
struct GroupCommitTests {
    @Test func twoHundredConcurrentCommitsShareSyncs() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let before = spool.commitQueue.batches.load(ordering: .relaxed)
            let ids = try await withThrowingTaskGroup(of: QueueID.self) { group in
                for n in 0..<200 {
                    group.addTask { try await spool.commitMessage(body: SpoolFixtures.body(subject: "#\(n)")) }
                }
                return try await group.reduce(into: [QueueID]()) { $0.append($1) }
            }
            let batches = spool.commitQueue.batches.load(ordering: .relaxed) - before
            #expect(Set(ids).count == 200)
            #expect(batches >= 1)
            #expect(batches < 200, "one syncfs per batch: \(batches) batches for 200 commits")

            let scanned = try await spool.scan()
            #expect(scanned.messages.count == 200)
            #expect(Set(scanned.messages.map(\.id)) == Set(ids))
            #expect(scanned.messages.map(\.id) == scanned.messages.map(\.id).sorted(), "oldest first")
        }
    }

    @Test func commitReturnsOnlyAfterItsBatchIsSynced() async throws {
        try await withTemporaryDirectory { dir in
            let queue = try GroupCommitQueue(name: "test", syncPath: dir.path)
            let before = queue.batches.load(ordering: .relaxed)
            let value = try await queue.commit { () throws(SpoolError) in 41 + 1 }
            #expect(value == 42)
            #expect(queue.batches.load(ordering: .relaxed) == before + 1, "the caller learns of its job after the sync")
        }
    }

    @Test func aFailingJobFailsOnlyItself() async throws {
        try await withTemporaryDirectory { dir in
            let queue = try GroupCommitQueue(name: "test", syncPath: dir.path)
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for n in 0..<20 {
                    group.addTask {
                        do {
                            try await queue.commit { () throws(SpoolError) in
                                if n % 2 == 0 { throw SpoolError.io(operation: "test", path: "\(n)", errno: 5) }
                            }
                            return true
                        } catch {
                            return false
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 10)
            #expect(outcomes.filter { !$0 }.count == 10)
        }
    }

    @Test func openingANonDirectoryFails() async throws {
        #expect(throws: SpoolError.self) {
            try GroupCommitQueue(name: "test", syncPath: "/nonexistent/mailrelay/\(UInt64.random(in: 0...UInt64.max))")
        }
    }
}

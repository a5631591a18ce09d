import RelayTesting
@testable import Spool
import Testing

/// The bytes of just-committed messages serve their first delivery attempt; they must be exactly the queue
/// file's, be taken once, stay within their byte budget and leave with the message.
@Suite("FreshMessageCache")
struct FreshMessageCacheTests {
    static func envelope(_ id: QueueID) -> MessageEnvelope {
        MessageEnvelope(id: id, sender: "a@example.org", recipients: ["b@example.net"], receivedAt: 1, clientAddress: "127.0.0.1",
                        clientName: "c", eightBitMIME: false, smtputf8: false)
    }

    @Test func anEntryIsTakenOnceAndTheBudgetIsKept() throws {
        let cache = FreshMessageCache(capacity: 10)
        let first = try #require(QueueID("0123456789ABC")), second = try #require(QueueID("0123456789ABD"))
        cache.insert(Self.envelope(first), body: Array(repeating: 1, count: 6))
        cache.insert(Self.envelope(second), body: Array(repeating: 2, count: 6))  // 12 bytes would exceed 10
        #expect(cache.count == 1)
        #expect(cache.take(first)?.body == Array(repeating: 1, count: 6))
        #expect(cache.take(first) == nil, "taken once: later attempts read the queue file")
        #expect(cache.take(second) == nil, "never kept")
        cache.insert(Self.envelope(second), body: Array(repeating: 2, count: 6))
        #expect(cache.count == 1, "the budget came back with the take")
    }

    @Test func theFirstReadServesTheCommittedBytesAndTheSecondReadsTheFile() async throws {
        try await withTemporarySpool { temp in
            let body = SpoolFixtures.randomBytes(2_000, seed: 9)
            let id = try await temp.spool.commitMessage(body: body)
            #expect(temp.spool.freshMessages.count == 1)
            let fresh = try await temp.spool.read(id)
            #expect(temp.spool.freshMessages.count == 0)
            let fromDisk = try await temp.spool.read(id)
            #expect(fresh.body == fromDisk.body && fresh.envelope == fromDisk.envelope)
            #expect(fresh.body == body)
        }
    }

    @Test func aMessageThatLeavesUnreadTakesItsEntryAlong() async throws {
        try await withTemporarySpool { temp in
            let removed = try await temp.spool.commitMessage(body: SpoolFixtures.randomBytes(100, seed: 1))
            let deleted = try await temp.spool.commitMessage(body: SpoolFixtures.randomBytes(100, seed: 2))
            #expect(temp.spool.freshMessages.count == 2)
            try await temp.spool.remove(removed)
            try await temp.spool.delete(deleted)
            #expect(temp.spool.freshMessages.count == 0)
        }
    }
}

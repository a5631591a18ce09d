import Foundation
import RelayTesting
import Spool
import Synchronization
import Testing

/// `SpoolReader`: relayctl's lock-free, read-only view of `queue/` and `failed/`.
@Suite("SpoolReader")
struct SpoolReaderTests {
    /// Every file under the spool with its size and modification time: what "the reader changed nothing" compares.
    static func snapshot(_ temp: TemporarySpoolDirectory) throws -> [String: [Int]] {
        var files: [String: [Int]] = [:]
        let enumerator = try #require(FileManager.default.enumerator(atPath: temp.root))
        for case let name as String in enumerator {
            let attributes = try FileManager.default.attributesOfItem(atPath: temp.root + "/" + name)
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            files[name] = [(attributes[.size] as? Int) ?? -1, Int(modified * 1000)]
        }
        return files
    }

    @Test func listsQueuedAndFailedMessagesInArrivalOrder() async throws {
        try await withTemporarySpool { temp in
            let body = SpoolFixtures.randomBytes(3_000, seed: 1)
            let first = try await temp.spool.commitMessage(recipients: ["bob@example.net", "carol@example.com"], body: body)
            let tried = try await temp.spool.commitMessage()
            let failed = try await temp.spool.commitMessage()
            let state = SpoolStateTests.sampleState()
            try await temp.spool.writeState(state, for: tried)
            try await temp.spool.retireFailed(failed, state: FailedMessagesTests.finalState(["bob@example.net"]))

            let before = try Self.snapshot(temp)
            let (entries, unreadable) = try SpoolReader(root: temp.root).entries()
            #expect(unreadable.isEmpty)
            #expect(entries.map(\.id) == [first, tried, failed])
            #expect(entries.map(\.location) == [.queue, .queue, .failed])

            #expect(entries[0].size == body.count)
            #expect(entries[0].envelope.recipients == ["bob@example.net", "carol@example.com"])
            #expect(entries[0].state == DeliveryState(recipients: ["bob@example.net", "carol@example.com"]), "fresh without a .state")
            #expect(!entries[0].hasStateFile)
            #expect(entries[0].failedAt == nil)
            #expect(entries[1].state == state)
            #expect(entries[1].hasStateFile)
            #expect(entries[2].state == FailedMessagesTests.finalState(["bob@example.net"]))
            let failedAt = try #require(entries[2].failedAt)
            #expect(abs(failedAt - Date().timeIntervalSince1970) < 60)

            #expect(try SpoolReader(root: temp.root).entries(includeFailed: false).entries.map(\.id) == [first, tried])
            #expect(try Self.snapshot(temp) == before, "a listing changes nothing")
        }
    }

    @Test func unreadableEntriesAreReportedAndLeftInPlace() async throws {
        try await withTemporarySpool { temp in
            let layout = temp.spool.layout
            let good = try await temp.spool.commitMessage()
            let badState = try await temp.spool.commitMessage(recipients: ["x@example.net"])
            try await temp.spool.writeState(DeliveryState(recipients: ["x@example.net"]), for: badState)
            try Array("{not json".utf8).write(to: layout.statePath(badState))
            let garbage = try #require(QueueID("0123456789ABC"))
            try Array("hello, not a queue file\n".utf8).write(to: layout.messagePath(garbage))
            let cut = try await temp.spool.commitMessage(body: SpoolFixtures.randomBytes(5_000, seed: 2))
            let whole = try contents(of: layout.messagePath(cut))
            try Array(whole.prefix(whole.count - 10)).write(to: layout.messagePath(cut))
            try SpoolFixtures.body().write(to: layout.queue + "/not-an-id.msg")
            let orphanState = try #require(QueueID("0123456789ABD"))
            try Array("{}".utf8).write(to: layout.statePath(orphanState))

            let before = try Self.snapshot(temp)
            let (entries, unreadable) = try SpoolReader(root: temp.root).entries()
            #expect(entries.map(\.id) == [good, badState], "the damaged ones are not listed; a state without its message is nothing")
            #expect(entries.first { $0.id == badState }?.state == DeliveryState(recipients: ["x@example.net"]),
                    "an unreadable state shows as a fresh one")
            #expect(entries.first { $0.id == badState }?.hasStateFile == false)
            let reported = unreadable.map { "\($0)" }.sorted()
            #expect(reported.count == 4)
            #expect(reported.contains { $0.contains("\(garbage).msg") && $0.contains("bad preamble") })
            #expect(reported.contains { $0.contains("\(cut).msg") && $0.contains("incomplete") })
            #expect(reported.contains { $0.contains("not-an-id.msg") })
            #expect(reported.contains { $0.contains("\(badState).state") && $0.contains("does not decode") })
            #expect(try Self.snapshot(temp) == before, "nothing quarantined, nothing moved")
            #expect(temp.names(in: .corrupt) == [])
        }
    }

    @Test func messageReturnsTheBytesAsQueuedFromEitherFolder() async throws {
        try await withTemporarySpool { temp in
            let body = SpoolFixtures.randomBytes(70_000, seed: 3)
            let queued = try await temp.spool.commitMessage(body: body)
            let failed = try await temp.spool.commitMessage(body: SpoolFixtures.body(subject: "failed"))
            try await temp.spool.retireFailed(failed, state: FailedMessagesTests.finalState(["bob@example.net"]))
            let reader = SpoolReader(root: temp.root)

            let (entry, bytes) = try reader.message(queued)
            #expect(entry.id == queued && entry.location == .queue)
            #expect(bytes == body)
            #expect(try reader.message(queued, limit: 100).bytes == Array(body.prefix(100)))
            #expect(try reader.message(failed).bytes == SpoolFixtures.body(subject: "failed"))
            #expect(try reader.entry(failed).location == .failed)

            try await temp.spool.remove(queued)
            #expect(throws: SpoolError.notFound(queued)) { try reader.message(queued) }
            #expect(throws: SpoolError.notFound(queued)) { try reader.entry(queued) }
        }
    }

    @Test func aMissingFailedFolderIsAnEmptyOne() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            try FileManager.default.removeItem(atPath: temp.spool.layout.failed)
            #expect(try SpoolReader(root: temp.root).entries().entries.map(\.id) == [id])
        }
    }

    @Test func aMissingQueueIsAnError() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: SpoolError.self) { try SpoolReader(root: directory.appending("nothing")).entries() }
    }

    /// relayd keeps delivering while relayctl lists: messages removed (their files recycled into newer
    /// messages) or retired into failed/ during a listing are skipped or found in failed/, never reported
    /// as damage.
    @Test func messagesFinishingDuringAListingAreNeverReportedAsDamage() async throws {
        try await withTemporarySpool { temp in
            var ids: [QueueID] = []
            for index in 0..<600 {
                ids.append(try await temp.spool.commitMessage(body: SpoolFixtures.randomBytes(200 + index, seed: UInt64(index))))
            }
            let reader = SpoolReader(root: temp.root)
            let stop = StopFlag()
            // On a thread of its own: a loop of blocking listings must not hold a cooperative thread.
            let listings = Task {
                try await onDedicatedThread {
                    var problems: [SpoolError] = []
                    var duplicates = 0
                    var rounds = 0
                    repeat {
                        let (entries, unreadable) = try reader.entries()
                        problems += unreadable
                        duplicates += entries.count - Set(entries.map(\.id)).count
                        rounds += 1
                    } while rounds < 200 && !stop.isSet
                    return (problems, duplicates)
                }
            }
            for (index, id) in ids.enumerated() {
                if index % 3 == 0 {
                    try await temp.spool.retireFailed(id, state: FailedMessagesTests.finalState(["bob@example.net"]))
                } else {
                    try await temp.spool.remove(id)
                    try await temp.spool.commitMessage()  // reuses the recycled file
                }
            }
            stop.set()
            let (problems, duplicates) = try await listings.value
            #expect(problems.isEmpty)
            #expect(duplicates == 0, "no message listed twice")
            let (entries, unreadable) = try reader.entries()
            #expect(unreadable.isEmpty)
            #expect(entries.filter { $0.location == .failed }.count == 200)
            #expect(entries.filter { $0.location == .queue }.count == 400)
        }
    }

    // Fixture files and reads block: they run on a dedicated thread, not on the cooperative pool.

    @Test func aListingReadInChunksGivesTheSameAsInOneGo() async throws {
        let directory = try TemporaryDirectory()
        let root = directory.appending("spool")
        let (queued, failed, listing, chunks, chunked, whole, queueOnly) = try await onDedicatedThread {
            let queued = try SpoolFixtures.writeCommittedMessages(root: root, count: 700)
            let failed = try SpoolFixtures.writeCommittedMessages(root: root, count: 300, into: .failed)
            let reader = SpoolReader(root: root)
            let listing = try reader.list()
            let chunks = listing.chunks(of: 128)
            var chunked: [SpoolEntry] = []
            for chunk in chunks { chunked += try reader.read(listing, chunk).entries }
            return (queued, failed, listing, chunks, chunked, try reader.entries().entries, try reader.list(includeFailed: false))
        }
        #expect(listing.count == 1_000)
        #expect(chunks.first?.lowerBound == 0 && chunks.last?.upperBound == 1_000)
        #expect(zip(chunks, chunks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "consecutive, no gaps")
        #expect(chunked.map(\.id) == (queued + failed).sorted())
        #expect(chunked == whole)
        #expect(queueOnly.count == 700)
    }

    @Test func aListingOfManyMessagesReadsEveryOne() async throws {
        let directory = try TemporaryDirectory()
        let root = directory.appending("spool")
        let deferred = DeliveryState(recipients: ["bob@example.net"], nextAttemptAt: 1_800_000_000)
        let (ids, entries, unreadable) = try await onDedicatedThread {
            let ids = try SpoolFixtures.writeCommittedMessages(root: root, count: 3_000) { index, _ in index % 4 == 0 ? deferred : nil }
            let (entries, unreadable) = try SpoolReader(root: root).entries()
            return (ids, entries, unreadable)
        }
        #expect(unreadable.isEmpty)
        #expect(entries.map(\.id) == ids)
        #expect(entries.allSatisfy { $0.size == 1024 })
        #expect(entries.filter(\.hasStateFile).count == 750)
        #expect(entries[4].state == deferred)
    }
}

/// Tells a loop on another thread to stop.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

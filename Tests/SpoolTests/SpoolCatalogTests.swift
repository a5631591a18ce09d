import Foundation
import RelayTesting
@testable import Spool
import Testing

/// The catalog must say what the files say: after each of the spool's own changes, after a recovery, and
/// after a scan that found files changed behind its back, without a scan undoing a newer change.
@Suite("SpoolCatalog")
struct SpoolCatalogTests {
    static func deferred(_ recipients: [String], attempts: Int = 2) -> DeliveryState {
        var state = DeliveryState(recipients: recipients, nextAttemptAt: 1_900_000_000)
        state.attempts = attempts
        for i in state.recipients.indices {
            state.recipients[i].status = .deferred
            state.recipients[i].reply = "421 4.7.0 Try again later"
            state.recipients[i].at = 1_800_000_000
        }
        state.record(.init(at: 1_800_000_000, relay: "smtp.example.net[192.0.2.1]:587", recipients: state.recipients))
        return state
    }

    /// What `SpoolReader` finds on disk, in the catalog's form (history left out, as the catalog keeps it).
    static func onDisk(_ temp: TemporarySpoolDirectory) throws -> [SpoolEntry] {
        try SpoolReader(root: temp.root).entries().entries.map { entry in
            var entry = entry
            entry.state.history = nil
            entry.failedAt = entry.failedAt.map { _ in 0 }
            return entry
        }
    }

    static func catalogued(_ spool: Spool) -> [SpoolEntry]? {
        spool.catalog.entries()?.map { entry in
            var entry = entry
            entry.failedAt = entry.failedAt.map { _ in 0 }  // the catalog's clock, not the state file's mtime
            return entry
        }
    }

    @Test func itIsIncompleteUntilRecoveryThenListsQueuedAndFailedInArrivalOrder() async throws {
        try await withTemporarySpool { temp in
            let first = try await temp.spool.commitMessage(recipients: ["a@example.net"])
            let failed = try await temp.spool.commitMessage(recipients: ["b@example.net"])
            let third = try await temp.spool.commitMessage(recipients: ["c@example.net", "d@example.net"])
            try await temp.spool.writeState(Self.deferred(["c@example.net", "d@example.net"]), for: third)
            var final = DeliveryState(recipients: ["b@example.net"])
            final.recipients[0].status = .failed
            final.recipients[0].reply = "550 5.1.1 No such user"
            try await temp.spool.retireFailed(failed, state: final)
            #expect(temp.spool.catalog.entries() == nil, "not complete before a recovery")

            let restarted = try temp.reopen()
            #expect(restarted.catalog.entries() == nil)
            _ = try await restarted.recover()
            let entries = try #require(Self.catalogued(restarted))
            #expect(entries.map(\.id) == [first, failed, third])
            #expect(entries.map(\.location) == [.queue, .failed, .queue])
            #expect(entries == (try Self.onDisk(temp)))
            #expect(entries[2].state.history == nil, "attempt histories stay on disk")
        }
    }

    @Test func itFollowsEveryChangeTheSpoolMakes() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            _ = try await spool.recover()
            let delivered = try await spool.commitMessage(recipients: ["a@example.net"])
            let retried = try await spool.commitMessage(recipients: ["b@example.net"])
            let held = try await spool.commitMessage(recipients: ["c@example.net"])
            let deleted = try await spool.commitMessage(recipients: ["d@example.net"])
            let failed = try await spool.commitMessage(recipients: ["e@example.net"])
            let purged = try await spool.commitMessage(recipients: ["f@example.net"])
            #expect(spool.catalog.entry(retried)?.hasStateFile == false)
            #expect(Self.catalogued(spool) == (try Self.onDisk(temp)), "committed messages, fresh")

            try await spool.writeState(Self.deferred(["b@example.net"]), for: retried)
            try await spool.setHeld(true, for: held)
            try await spool.remove(delivered)
            try await spool.delete(deleted)
            var final = DeliveryState(recipients: ["e@example.net"])
            final.recipients[0].status = .failed
            try await spool.retireFailed(failed, state: final)
            try await spool.retireFailed(purged, state: final)
            #expect(Self.catalogued(spool) == (try Self.onDisk(temp)))
            #expect(spool.catalog.entry(held)?.state.held == true)
            #expect(spool.catalog.entry(failed)?.location == .failed)

            try await spool.deleteFailed(failed)
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: -3_600)], ofItemAtPath: spool.layout.failedStatePath(purged))
            #expect(try await spool.purgeFailed(olderThan: Date().timeIntervalSince1970 - 60) == 1)
            #expect(Self.catalogued(spool) == (try Self.onDisk(temp)))
            #expect(spool.catalog.entries()?.map(\.id) == [retried, held])
        }
    }

    @Test func aScanTakesInFilesChangedBehindTheSpoolsBack() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let gone = try await spool.commitMessage()
            let kept = try await spool.commitMessage()
            _ = try await spool.recover()
            // An operator's hands: a file removed, and a queue file from another spool dropped in.
            try FileManager.default.removeItem(atPath: spool.layout.messagePath(gone))
            let other = try TemporarySpoolDirectory()
            defer { other.remove() }
            let stranger = try await other.spool.commitMessage(recipients: ["x@example.org"])
            try FileManager.default.copyItem(atPath: other.spool.layout.messagePath(stranger), toPath: spool.layout.messagePath(stranger))

            let scanned = try await spool.scan().messages.map(\.id)
            #expect(scanned == [kept, stranger])
            #expect(spool.catalog.entries()?.map(\.id) == [kept, stranger])
            #expect(Self.catalogued(spool) == (try Self.onDisk(temp)))
        }
    }

    @Test func aChangeMadeDuringAScanIsNotUndoneByIt() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            _ = try await spool.recover()
            let removed = try await spool.commitMessage(recipients: ["a@example.net"])
            let rewritten = try await spool.commitMessage(recipients: ["b@example.net"])
            let stale = try #require(spool.catalog.queuedMessage(removed))
            let staleState = try #require(spool.catalog.queuedMessage(rewritten))

            // The scan read both files before the delivery finished one and recorded an attempt on the other.
            let start = spool.catalog.scanStarted()
            try await spool.remove(removed)
            try await spool.writeState(Self.deferred(["b@example.net"]), for: rewritten)
            spool.catalog.scanEnded(start, found: [stale, staleState])

            #expect(spool.catalog.entries()?.map(\.id) == [rewritten], "no ghost of the delivered message")
            #expect(spool.catalog.entry(rewritten)?.state.attempts == 2, "the newer state stands")
            #expect(Self.catalogued(spool) == (try Self.onDisk(temp)))
        }
    }

    @Test func aScanWithACompleteCatalogReadsOnlyFilesItDoesNotKnow() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let known = try await spool.commitMessage(recipients: ["a@example.net"])
            _ = try await spool.recover()
            // Damage the scan would quarantine, were it to read the file.
            try Data("not a queue file".utf8).write(to: URL(fileURLWithPath: spool.layout.messagePath(known)))
            let result = try await spool.scan()
            #expect(result.messages.map(\.id) == [known])
            #expect(result.quarantined.isEmpty)
            #expect(temp.names(in: .corrupt) == [])
        }
    }
}

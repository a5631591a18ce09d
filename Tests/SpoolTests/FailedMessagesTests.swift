import Foundation
import RelayTesting
import Spool
import Testing

/// `failed/`: finished messages with a failed recipient, kept with their final state until purged.
@Suite("Failed messages")
struct FailedMessagesTests {
    static func finalState(_ recipients: [String] = ["bob@example.net", "carol@example.com"]) -> DeliveryState {
        var state = DeliveryState(recipients: recipients)
        state.attempts = 3
        state.recipients[0] = .init(address: recipients[0], status: .failed, reply: "550 5.1.1 No such user", at: 1_700_000_000)
        if recipients.count > 1 {
            state.recipients[1] = .init(address: recipients[1], status: .delivered, reply: "250 2.0.0 Ok", at: 1_700_000_000)
        }
        return state
    }

    static func failedNames(_ temp: TemporarySpoolDirectory) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: temp.spool.layout.failed)) ?? []).sorted()
    }

    /// Backdates a file's modification time by `seconds`.
    static func age(_ path: String, by seconds: Double) throws {
        let date = Date(timeIntervalSinceNow: -seconds)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
    }

    @Test func retireMovesMessageAndStateIntoFailed() async throws {
        try await withTemporarySpool { temp in
            let body = SpoolFixtures.randomBytes(4_000, seed: 3)
            let id = try await temp.spool.commitMessage(recipients: ["bob@example.net", "carol@example.com"], body: body)
            let kept = try await temp.spool.commitMessage()
            try await temp.spool.writeState(DeliveryState(recipients: ["bob@example.net", "carol@example.com"]), for: id)
            let state = Self.finalState()
            let before = Date().timeIntervalSince1970

            try await temp.spool.retireFailed(id, state: state)

            #expect(temp.names(in: .queue) == ["\(kept).msg"], "neither the message nor its queue state is left")
            #expect(Self.failedNames(temp) == ["\(id).msg", "\(id).state"])
            #expect(temp.names(in: .incoming) == [])
            #expect(try await temp.spool.scan().messages.map(\.id) == [kept])
            #expect(try await temp.spool.loadState(id) == nil)
            await #expect(throws: SpoolError.notFound(id)) { try await temp.spool.read(id) }

            let (failed, unreadable) = try await temp.spool.failedMessages()
            #expect(unreadable.isEmpty)
            #expect(failed.map(\.id) == [id])
            #expect(failed.first?.state == state)
            #expect(failed.first?.size == body.count)
            #expect(failed.first?.envelope.recipients == ["bob@example.net", "carol@example.com"])
            let failedAt = try #require(failed.first?.failedAt)
            #expect(failedAt >= before - 2 && failedAt <= Date().timeIntervalSince1970 + 2)
            #expect(try await temp.spool.readFailed(id).body == body)

            let restarted = try await temp.reopen().recover()
            #expect(restarted.messages.map(\.id) == [kept], "a failed message is never retried after a restart")
            #expect(restarted.quarantined.isEmpty)
            #expect(Self.failedNames(temp) == ["\(id).msg", "\(id).state"], "recovery leaves failed/ alone")
        }
    }

    @Test func retiringAnUnknownMessageIsNotFoundAndLeavesNothing() async throws {
        try await withTemporarySpool { temp in
            let id = try #require(QueueID("0123456789ABC"))
            await #expect(throws: SpoolError.notFound(id)) { try await temp.spool.retireFailed(id, state: Self.finalState()) }
            #expect(Self.failedNames(temp) == [])
            #expect(temp.names(in: .incoming) == [])
        }
    }

    @Test func retiringTwiceKeepsTheMessageWithTheLaterState() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage(recipients: ["bob@example.net", "carol@example.com"])
            try await temp.spool.retireFailed(id, state: Self.finalState())
            var later = Self.finalState()
            later.lastError = "retired again"
            try await temp.spool.retireFailed(id, state: later)
            #expect(Self.failedNames(temp) == ["\(id).msg", "\(id).state"])
            #expect(try await temp.spool.failedMessages().messages.first?.state == later)
        }
    }

    @Test func purgeRemovesOnlyMessagesOlderThanTheCutoff() async throws {
        try await withTemporarySpool { temp in
            let layout = temp.spool.layout
            let old = try await temp.spool.commitMessage()
            let recent = try await temp.spool.commitMessage()
            let queued = try await temp.spool.commitMessage()
            for id in [old, recent] { try await temp.spool.retireFailed(id, state: Self.finalState(["bob@example.net"])) }
            try Self.age(layout.failedStatePath(old), by: 8 * 86_400)
            try Self.age(layout.failedMessagePath(old), by: 8 * 86_400)
            let recycledBefore = temp.names(in: .recycle).count

            let cutoff = Date().timeIntervalSince1970 - Spool.defaultFailedRetention
            #expect(try await temp.spool.purgeFailed(olderThan: cutoff) == 1)
            #expect(Self.failedNames(temp) == ["\(recent).msg", "\(recent).state"])
            #expect(try await temp.spool.failedMessages().messages.map(\.id) == [recent])
            #expect(temp.names(in: .recycle).count == recycledBefore + 1, "the purged file is kept for reuse")
            #expect(try await temp.spool.scan().messages.map(\.id) == [queued], "the queue is untouched")
            #expect(try await temp.spool.purgeFailed(olderThan: cutoff) == 0)
        }
    }

    /// What a crash at each step of a retire leaves, planted by hand, then a restart and a listing: the
    /// message file is in exactly one of queue/ and failed/, never both, never neither.
    @Test func everyCrashPointLeavesTheMessageInExactlyOnePlace() async throws {
        try await withTemporarySpool { temp in
            let layout = temp.spool.layout
            let state = Self.finalState(["bob@example.net"])
            let stateBytes = Array(try JSONEncoder().encode(state))

            // 1. The state is durable in failed/, the rename did not happen: still queued, retried.
            let beforeRename = try await temp.spool.commitMessage()
            try stateBytes.write(to: layout.failedStatePath(beforeRename))
            // 2. Renamed, but the queue's stale state not yet unlinked.
            let afterRename = try await temp.spool.commitMessage()
            try await temp.spool.writeState(DeliveryState(recipients: ["bob@example.net"]), for: afterRename)
            try stateBytes.write(to: layout.failedStatePath(afterRename))
            try FileManager.default.moveItem(atPath: layout.messagePath(afterRename), toPath: layout.failedMessagePath(afterRename))
            // 3. A complete retire.
            let complete = try await temp.spool.commitMessage()
            try await temp.spool.retireFailed(complete, state: state)

            let spool = try temp.reopen()
            let report = try await spool.recover()
            #expect(report.messages.map(\.id) == [beforeRename])
            #expect(report.quarantined.isEmpty)
            #expect(temp.names(in: .queue) == ["\(beforeRename).msg"], "the stale queue state of 2 is dropped")
            let listed = try await spool.failedMessages()
            #expect(listed.messages.map(\.id) == [afterRename, complete], "a state without its message is not listed")
            #expect(listed.unreadable.isEmpty)
            for id in [beforeRename, afterRename, complete] {
                let inQueue = FileManager.default.fileExists(atPath: layout.messagePath(id))
                let inFailed = FileManager.default.fileExists(atPath: layout.failedMessagePath(id))
                #expect(inQueue != inFailed, "\(id): in exactly one place")
            }

            // The retried message fails again and retires over the leftover state; old leftovers are purged.
            try await spool.retireFailed(beforeRename, state: state)
            #expect(try await spool.failedMessages().messages.map(\.id) == [beforeRename, afterRename, complete])
            let orphan = try await spool.commitMessage()
            try stateBytes.write(to: layout.failedStatePath(orphan))
            try Self.age(layout.failedStatePath(orphan), by: 8 * 86_400)
            #expect(try await spool.purgeFailed(olderThan: Date().timeIntervalSince1970 - 7 * 86_400) == 0)
            #expect(!FileManager.default.fileExists(atPath: layout.failedStatePath(orphan)))
            #expect(FileManager.default.fileExists(atPath: layout.messagePath(orphan)), "the queued message is untouched")
        }
    }

    /// Scans run every minute while workers retire messages: a scan that lists a message just before it
    /// moves must not mistake it for a corrupt entry.
    @Test func scansRacingRetiresReportNothingCorrupt() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            var committed: [QueueID] = []
            for _ in 0..<60 { committed.append(try await spool.commitMessage(recipients: ["bob@example.net"])) }
            let ids = committed
            for id in ids where id.rawValue.last.map({ $0.asciiValue! % 2 == 0 }) == true {
                try await spool.writeState(DeliveryState(recipients: ["bob@example.net"]), for: id)
            }
            let state = Self.finalState(["bob@example.net"])
            let problems = try await withThrowingTaskGroup(of: [SpoolError].self) { group in
                group.addTask {
                    for id in ids { try await spool.retireFailed(id, state: state) }
                    return []
                }
                for _ in 0..<2 {
                    group.addTask {
                        var found: [SpoolError] = []
                        for _ in 0..<40 { found += try await spool.scan().quarantined }
                        return found
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(problems.isEmpty)
            #expect(temp.names(in: .corrupt) == [])
            #expect(temp.names(in: .queue) == [])
            #expect(try await spool.failedMessages().messages.map(\.id) == ids)
        }
    }

    @Test func unreadableFailedEntryIsReportedAndLeftInPlace() async throws {
        try await withTemporarySpool { temp in
            let id = try #require(QueueID("0123456789ABC"))
            try Array("not a queue file".utf8).write(to: temp.spool.layout.failedMessagePath(id))
            try Array("notes".utf8).write(to: temp.spool.layout.failed + "/README")
            let listed = try await temp.spool.failedMessages()
            #expect(listed.messages.isEmpty)
            #expect(listed.unreadable.count == 1)
            #expect(Self.failedNames(temp) == ["\(id).msg", "README"], "a listing moves nothing")
            try Self.age(temp.spool.layout.failedMessagePath(id), by: 30 * 86_400)
            try Self.age(temp.spool.layout.failed + "/README", by: 30 * 86_400)
            #expect(try await temp.spool.purgeFailed(olderThan: Date().timeIntervalSince1970 - 86_400) == 1)
            #expect(Self.failedNames(temp) == ["README"], "names that are not queue ids are never touched")
        }
    }
}

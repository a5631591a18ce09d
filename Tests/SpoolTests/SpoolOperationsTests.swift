import Foundation
import RelayTesting
import Spool
import Testing

/// The spool's side of `relayctl delete`, `hold` and `release`.
@Suite("Spool: operator operations")
struct SpoolOperationsTests {
    static let recipients = ["bob@example.net", "carol@example.com"]
    static let unknown = QueueID("0123456789ABC")!

    static func failedNames(_ temp: TemporarySpoolDirectory) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: temp.spool.layout.failed)) ?? []).sorted()
    }

    @Test func deleteRemovesMessageAndStateAndRecyclesTheFile() async throws {
        try await withTemporarySpool { temp in
            let kept = try await temp.spool.commitMessage()
            let id = try await temp.spool.commitMessage(recipients: Self.recipients)
            var state = DeliveryState(recipients: Self.recipients)
            state.attempts = 2
            try await temp.spool.writeState(state, for: id)
            let recycledBefore = temp.names(in: .recycle).count

            try await temp.spool.delete(id)

            #expect(temp.names(in: .queue) == ["\(kept).msg"])
            #expect(temp.names(in: .recycle).count == recycledBefore + 1, "the file is kept for a later message")
            #expect(try await temp.spool.loadState(id) == nil)
            await #expect(throws: SpoolError.notFound(id)) { try await temp.spool.read(id) }
            await #expect(throws: SpoolError.notFound(id)) { try await temp.spool.delete(id) }
            #expect(try await temp.spool.scan().messages.map(\.id) == [kept])
        }
    }

    @Test func deleteOfAMessageWithoutStateAndOfAnUnknownOne() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            try await temp.spool.delete(id)
            #expect(temp.names(in: .queue) == [])
            await #expect(throws: SpoolError.notFound(Self.unknown)) { try await temp.spool.delete(Self.unknown) }
        }
    }

    @Test func deletedMessageStaysDeletedAfterARestart() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            try await temp.spool.writeState(DeliveryState(recipients: ["bob@example.net"]), for: id)
            try await temp.spool.delete(id)
            let restarted = try await temp.reopen().recover()
            #expect(restarted.messages.isEmpty)
            #expect(temp.names(in: .queue) == [])
        }
    }

    @Test func deleteFailedRemovesAKeptFailure() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage(recipients: Self.recipients)
            var state = DeliveryState(recipients: Self.recipients)
            state.recipients[0].status = .failed
            state.recipients[1].status = .delivered
            try await temp.spool.retireFailed(id, state: state)
            #expect(Self.failedNames(temp) == ["\(id).msg", "\(id).state"])
            await #expect(throws: SpoolError.notFound(id)) { try await temp.spool.delete(id) }

            try await temp.spool.deleteFailed(id)

            #expect(Self.failedNames(temp) == [])
            #expect(try await temp.spool.failedMessages().messages.isEmpty)
            await #expect(throws: SpoolError.notFound(id)) { try await temp.spool.deleteFailed(id) }
        }
    }

    @Test func deleteFailedOfAQueuedMessageIsNotFound() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            await #expect(throws: SpoolError.notFound(id)) { try await temp.spool.deleteFailed(id) }
            #expect(temp.names(in: .queue) == ["\(id).msg"])
        }
    }

    @Test func holdWritesAFreshStateForAMessageNeverAttempted() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage(recipients: Self.recipients)
            #expect(try await temp.spool.state(of: id) == DeliveryState(recipients: Self.recipients))

            let held = try await temp.spool.setHeld(true, for: id)

            var expected = DeliveryState(recipients: Self.recipients)
            expected.held = true
            #expect(held == expected)
            #expect(try await temp.spool.loadState(id) == expected)
            #expect(temp.names(in: .queue) == ["\(id).msg", "\(id).state"])
            #expect(temp.names(in: .incoming) == [])
        }
    }

    @Test func holdKeepsTheRecordedStateAndReleaseMakesTheMessageDueNow() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage(recipients: Self.recipients)
            var state = DeliveryState(recipients: Self.recipients, nextAttemptAt: 1_900_000_000)
            state.attempts = 3
            state.recipients[0] = .init(address: Self.recipients[0], status: .delivered, reply: "250 2.0.0 Ok", at: 1_700_000_000)
            state.recipients[1] = .init(address: Self.recipients[1], status: .deferred, reply: "421 4.7.0 Later", at: 1_700_000_000)
            try await temp.spool.writeState(state, for: id)

            var held = state
            held.held = true
            #expect(try await temp.spool.setHeld(true, for: id) == held)

            let restarted = try temp.reopen()
            #expect(try await restarted.recover().messages.first?.state == held, "the hold survives a restart")

            var released = state
            released.nextAttemptAt = 0
            #expect(try await restarted.setHeld(false, for: id) == released)
            #expect(try await restarted.loadState(id) == released)
        }
    }

    @Test func holdOfAMissingMessageWritesNothing() async throws {
        try await withTemporarySpool { temp in
            await #expect(throws: SpoolError.notFound(Self.unknown)) { try await temp.spool.setHeld(true, for: Self.unknown) }
            await #expect(throws: SpoolError.notFound(Self.unknown)) { try await temp.spool.state(of: Self.unknown) }
            #expect(temp.names(in: .queue) == [])
            #expect(temp.names(in: .incoming) == [])
        }
    }
}

import Delivery
import Foundation
import Logging
import RelayTesting
import Spool
import Testing

@Suite("QueueRunner end to end with a scripted transport")
struct QueueRunnerTests {
    static let bob = "bob@example.net"
    static let carol = "carol@example.com"

    @Test func deliveredMessageIsRemoved() async throws {
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .delivered("250 2.0.0 Ok")))
        defer { harness.stop() }
        let body = SpoolFixtures.randomBytes(3_000, seed: 11)
        let id = try await harness.spool.commitMessage(recipients: [Self.bob, Self.carol], body: body)

        #expect(await harness.waitUntilRemoved(id))
        let calls = harness.transport.calls
        #expect(calls.count == 1)
        #expect(calls.first?.envelope.id == id)
        #expect(calls.first?.body == body, "the transport gets the message exactly as spooled")
        #expect(calls.first?.recipients == [Self.bob, Self.carol])
        #expect(harness.temp.names(in: .queue) == [])
        #expect(harness.temp.names(in: .recycle).count == 1, "its file was kept for the next message")
    }

    @Test func deferredMessageIsRecordedThenRetriedOnFlush() async throws {
        let transport = ScriptedTransport([
            [Self.bob: .deferred("421 4.7.0 Try again later")],
            [Self.bob: .delivered("250 2.0.0 Ok")],
        ])
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob])

        let state = try #require(await harness.waitForState(id, attempts: 1))
        let recordedAt = Date().timeIntervalSince1970
        #expect(state.attempts == 1)
        #expect(state.recipients.map(\.status) == [.deferred])
        #expect(state.recipients.first?.reply == "421 4.7.0 Try again later")
        let attemptAt = try #require(state.recipients.first?.at)
        #expect(attemptAt <= recordedAt)
        #expect(abs(state.nextAttemptAt - (attemptAt + 60)) < 0.01, "first retry after RetryPolicy.first (no jitter)")
        let attempt = try #require(state.history?.first, "the attempt is in the state's history for relayctl show")
        #expect(state.history?.count == 1)
        #expect(attempt.at == attemptAt)
        #expect(attempt.relay == transport.name)
        #expect(attempt.recipients.map(\.address) == [Self.bob])
        #expect(attempt.recipients.first?.reply == "421 4.7.0 Try again later")
        #expect(state.nextAttemptAt > recordedAt + 50)
        #expect(try await harness.spool.read(id).envelope.id == id, "still in the spool")
        #expect(transport.callCount == 1, "not retried before its time")

        #expect(await harness.flushUntil(calls: 2))
        #expect(await harness.waitUntilRemoved(id))
        #expect(transport.callCount == 2)
    }

    @Test func partialDeliveryRetriesOnlyTheDeferredRecipient() async throws {
        let transport = ScriptedTransport([
            [Self.bob: .delivered("250 2.0.0 Ok"), Self.carol: .deferred("450 4.2.0 Mailbox busy")],
            [Self.carol: .delivered("250 2.0.0 Ok")],
        ])
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob, Self.carol])

        let state = try #require(await harness.waitForState(id, attempts: 1))
        #expect(state.recipients.map(\.address) == [Self.bob, Self.carol])
        #expect(state.recipients.map(\.status) == [.delivered, .deferred])
        #expect(state.recipients.map(\.reply) == ["250 2.0.0 Ok", "450 4.2.0 Mailbox busy"])

        #expect(await harness.flushUntil(calls: 2))
        #expect(await harness.waitUntilRemoved(id))
        #expect(transport.calls.map(\.recipients) == [[Self.bob, Self.carol], [Self.carol]])
    }

    @Test func failedMessageIsRemoved() async throws {
        let transport = ScriptedTransport(always: .failed("550 5.1.1 No such user"))
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob])
        #expect(await harness.waitUntilRemoved(id))
        #expect(transport.callCount == 1, "a permanent failure is not retried")
    }

    @Test func expiredMessageFailsInsteadOfDeferring() async throws {
        var retry = RunnerHarness.retry
        retry.lifetime = .zero  // every message is already past its lifetime
        let transport = ScriptedTransport(always: .deferred("421 4.4.2 Timeout"))
        let harness = try RunnerHarness(transport: transport, retry: retry)
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob])
        #expect(await harness.waitUntilRemoved(id))
        #expect(transport.callCount == 1)
        #expect(try await harness.spool.loadState(id) == nil, "no deferral was recorded")
    }

    @Test func missingOutcomeCountsAsDeferred() async throws {
        let transport = ScriptedTransport([[:]], defaultOutcome: nil)  // reports nothing at all
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob])
        let state = try #require(await harness.waitForState(id, attempts: 1))
        #expect(state.recipients.first?.status == .deferred)
        #expect(state.recipients.first?.reply?.contains("no outcome reported by scripted") == true)
    }

    @Test func heldMessageIsNotDelivered() async throws {
        let transport = ScriptedTransport(always: .delivered("250 2.0.0 Ok"))
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        let id = try await temp.spool.commitMessage(recipients: [Self.bob])
        var held = DeliveryState(recipients: [Self.bob])
        held.held = true
        try await temp.spool.writeState(held, for: id)
        let other = try await temp.spool.commitMessage(recipients: [Self.carol])

        let runner = QueueRunner(
            spool: temp.spool, transport: transport, configuration: .init(workers: 1, retry: RunnerHarness.retry),
            logger: .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        await runner.enqueue(try await temp.spool.recover().messages)
        let task = Task { try await runner.run() }
        defer { task.cancel() }
        #expect(await transport.waitForCalls(1))
        #expect(await eventually { temp.names(in: .queue) == ["\(id).msg", "\(id).state"] })
        try await Task.sleep(for: .milliseconds(200))
        #expect(transport.calls.map(\.envelope.id) == [other], "the held message stays put")
    }

    @Test func cancellationEndsRun() async throws {
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .delivered("250 2.0.0 Ok")))
        defer { harness.temp.remove() }
        try await Task.sleep(for: .milliseconds(100))
        harness.task.cancel()
        // The workers wait in QueueIndex.next(); cancellation (ServiceGroup cancels services on escalation or
        // when another service ends) closes the index as a graceful shutdown does, so run() returns.
        #expect(await harness.task.finishes(within: .seconds(20)))
    }

    @Test func cancellationWhileIdleAfterWorkEndsRun() async throws {
        let transport = ScriptedTransport(always: .delivered("250 2.0.0 Ok"))
        let harness = try RunnerHarness(transport: transport)
        defer { harness.temp.remove() }
        let id = try await harness.spool.commitMessage()
        #expect(await harness.waitUntilRemoved(id))
        harness.task.cancel()
        #expect(await harness.task.finishes(within: .seconds(20)))
    }
}

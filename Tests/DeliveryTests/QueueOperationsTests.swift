@testable import Delivery
import Foundation
import Logging
import RelayTesting
import Spool
import Testing

/// Operator requests (`relayctl hold`, `release`, `delete`, `flush`, `stats`, `send-test`) against a running
/// queue runner, including while the message is being delivered.
@Suite("QueueRunner operator operations")
struct QueueOperationsTests {
    static let bob = "bob@example.net"
    static let carol = "carol@example.com"
    static let dave = "dave@example.org"
    static let unknown = QueueID("0123456789ABC")!

    static func failedNames(_ spool: Spool) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: spool.layout.failed)) ?? []).sorted()
    }

    /// Starts `request` and returns once it waits for the attempt in flight on `id`.
    static func startWhileInFlight(
        _ harness: RunnerHarness, _ id: QueueID, _ request: @escaping @Sendable (QueueRunner) async -> QueueOperationOutcome
    ) async -> Task<QueueOperationOutcome, Never> {
        let runner = harness.runner
        let task = Task { await request(runner) }
        #expect(await eventually { await runner.index.pendingTakeCount(for: id) == 1 }, "the request waits for the attempt")
        return task
    }

    // MARK: delete while the message is being delivered

    @Test func deletingAMessageWhoseDeliverySucceedsReportsItWentOut() async throws {
        let gate = Gate()
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .delivered("250 2.0.0 Ok")), gate: gate)
        defer { gate.open(); harness.stop() }
        let id = try await harness.spool.commitMessage()
        #expect(await harness.transport.waitForCalls(1))
        #expect(await harness.runner.activeIDs() == [id])

        let deletion = await Self.startWhileInFlight(harness, id) { await $0.delete(id) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await harness.spool.read(id).envelope.id == id, "nothing is deleted while the attempt runs")
        gate.open()

        #expect(await deletion.value == .alreadyDelivered)
        #expect(harness.temp.names(in: .queue) == [])
        #expect(harness.transport.callCount == 1, "delivered exactly once")
        #expect(await harness.runner.activeIDs() == [])
    }

    @Test func deletingAMessageWhoseDeliveryDefersStopsIt() async throws {
        let gate = Gate()
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .deferred("421 4.7.0 Try again later")), gate: gate)
        defer { gate.open(); harness.stop() }
        let id = try await harness.spool.commitMessage()
        #expect(await harness.transport.waitForCalls(1))

        let deletion = await Self.startWhileInFlight(harness, id) { await $0.delete(id) }
        gate.open()

        #expect(await deletion.value == .done)
        #expect(harness.temp.names(in: .queue) == [], "message and state are gone")
        #expect(try await harness.spool.loadState(id) == nil)
        #expect(await harness.runner.flushAll().isEmpty, "nothing is left to retry")
        try await Task.sleep(for: .milliseconds(300))
        #expect(harness.transport.callCount == 1, "never retried")
        #expect(await harness.runner.delete(id) == .notFound)
    }

    /// A delete that waited for an attempt which retired the message into failed/ says so and leaves it there:
    /// its bounce has gone out, so it did not simply vanish; a second delete removes it.
    @Test func deletingAMessageWhoseDeliveryFailsReportsItAndKeepsItInFailed() async throws {
        let gate = Gate()
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .failed("550 5.1.1 No such user")), gate: gate)
        defer { gate.open(); harness.stop() }
        let id = try await harness.spool.commitMessage()
        #expect(await harness.transport.waitForCalls(1))

        let deletion = await Self.startWhileInFlight(harness, id) { await $0.delete(id) }
        gate.open()

        #expect(await deletion.value == .alreadyDelivered)
        #expect(Self.failedNames(harness.spool) == ["\(id).msg", "\(id).state"])
        #expect(await harness.runner.delete(id) == .done)
        #expect(Self.failedNames(harness.spool) == [])
    }

    @Test func holdingAMessageBeingDeliveredHoldsItAfterAnAttemptThatDefers() async throws {
        let gate = Gate()
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .deferred("421 4.7.0 Try again later")), gate: gate)
        defer { gate.open(); harness.stop() }
        let id = try await harness.spool.commitMessage()
        #expect(await harness.transport.waitForCalls(1))

        let hold = await Self.startWhileInFlight(harness, id) { await $0.hold(id) }
        gate.open()

        #expect(await hold.value == .done)
        let state = try await harness.spool.state(of: id)
        #expect(state.held)
        #expect(state.attempts == 1, "the attempt's outcome was kept")
        #expect(await harness.runner.flushAll().isEmpty)
    }

    // MARK: hold and release

    @Test func heldMessageIsNotDeliveredUntilReleased() async throws {
        let transport = ScriptedTransport([
            [Self.bob: .deferred("421 4.7.0 Try again later")],
            [Self.bob: .delivered("250 2.0.0 Ok")],
        ])
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob])
        #expect(await harness.waitForState(id, attempts: 1) != nil)

        #expect(await harness.runner.hold(id) == .done)
        #expect(try await harness.spool.loadState(id)?.held == true, "the hold is recorded in the state file")
        #expect(await harness.runner.hold(id) == .unchanged("already held"))
        #expect(await harness.runner.flushAll().isEmpty, "a held message is not waiting")
        #expect(await harness.runner.flush([id]) == [.unchanged("held: release it first")])
        try await Task.sleep(for: .milliseconds(300))
        #expect(transport.callCount == 1, "the transport never saw it while held")

        #expect(await harness.runner.release(id) == .done)
        #expect(await harness.waitUntilRemoved(id), "released means delivered now, not at its retry time")
        #expect(transport.callCount == 2)
        #expect(await harness.runner.release(id) == .notFound)
    }

    @Test func releasingAMessageThatIsNotHeldChangesNothing() async throws {
        let transport = ScriptedTransport([
            [Self.bob: .deferred("421 4.7.0 Try again later")],
            [Self.bob: .delivered("250 2.0.0 Ok")],
        ])
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob])
        let before = try #require(await harness.waitForState(id, attempts: 1))

        #expect(await harness.runner.release(id) == .unchanged("not held"))
        #expect(try await harness.spool.loadState(id) == before)
        try await Task.sleep(for: .milliseconds(300))
        #expect(transport.callCount == 1, "still waiting for its retry time")
        #expect(await harness.flushUntil(calls: 2), "and still waiting in the index, so a flush reaches it")
        #expect(await harness.waitUntilRemoved(id))
    }

    @Test func holdSurvivesARestartAndPeriodicScans() async throws {
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let id = try await temp.spool.commitMessage(recipients: [Self.bob])
        let stopped = QueueRunner(
            spool: temp.spool, transport: ScriptedTransport(always: .delivered("250 2.0.0 Ok")),
            configuration: .init(workers: 1, retry: RunnerHarness.retry), logger: logger)
        #expect(await stopped.hold(id) == .done)

        let spool = try temp.reopen()
        let transport = ScriptedTransport(always: .delivered("250 2.0.0 Ok"))
        let runner = QueueRunner(
            spool: spool, transport: transport,
            configuration: .init(workers: 2, retry: RunnerHarness.retry, scanInterval: .seconds(1)), logger: logger)
        await runner.enqueue(try await spool.recover().messages)
        let task = Task { try await runner.run() }
        defer { task.cancel() }
        let witness = try await spool.commitMessage(recipients: [Self.carol])
        #expect(await transport.waitForCalls(1))
        try await Task.sleep(for: .seconds(3))  // a few of the runner's scans (every second) pass
        #expect(transport.calls.map(\.envelope.id) == [witness], "the held message stayed put")
        #expect(try await spool.state(of: id).held)

        #expect(await runner.release(id) == .done)
        #expect(await transport.waitForCalls(2))
        #expect(transport.calls.map(\.envelope.id) == [witness, id])
        #expect(await eventually { temp.names(in: .queue) == [] })
    }

    // MARK: delete and flush

    @Test func deletingAWaitingMessageRemovesItFromSpoolAndQueue() async throws {
        let transport = ScriptedTransport(always: .deferred("421 4.7.0 Try again later"))
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage()
        let kept = try await harness.spool.commitMessage(recipients: [Self.carol])
        #expect(await harness.waitForState(id, attempts: 1) != nil)
        #expect(await harness.waitForState(kept, attempts: 1) != nil)

        #expect(await harness.runner.delete(id) == .done)
        #expect(harness.temp.names(in: .queue) == ["\(kept).msg", "\(kept).state"])
        #expect(await harness.flushUntil(calls: 3), "the other message is retried")
        try await Task.sleep(for: .milliseconds(300))
        #expect(harness.transport.calls.map(\.envelope.id).filter { $0 == id }.count == 1, "the deleted one never again")
        #expect(await harness.runner.delete(id) == .notFound)
    }

    @Test func deletingAHeldMessage() async throws {
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .deferred("421 4.7.0 Try again later")))
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage()
        #expect(await harness.waitForState(id, attempts: 1) != nil)
        #expect(await harness.runner.hold(id) == .done)
        #expect(await harness.runner.delete(id) == .done)
        #expect(harness.temp.names(in: .queue) == [])
    }

    @Test func deletingAFailedMessage() async throws {
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .failed("550 5.1.1 No such user")))
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage()
        #expect(await eventually { Self.failedNames(harness.spool) == ["\(id).msg", "\(id).state"] })
        #expect(await eventually { await harness.runner.activeIDs().isEmpty })

        #expect(await harness.runner.delete(id) == .done)
        #expect(Self.failedNames(harness.spool) == [])
        #expect(try await harness.spool.failedMessages().messages.isEmpty)
        #expect(await harness.runner.delete(id) == .notFound)
    }

    @Test func unknownMessagesAreNotFound() async throws {
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .delivered("250 2.0.0 Ok")))
        defer { harness.stop() }
        #expect(await harness.runner.hold(Self.unknown) == .notFound)
        #expect(await harness.runner.release(Self.unknown) == .notFound)
        #expect(await harness.runner.delete(Self.unknown) == .notFound)
        #expect(await harness.runner.flush([Self.unknown]) == [.notFound])
        #expect(harness.temp.names(in: .queue) == [], "no state was written for a message that does not exist")
    }

    @Test func flushRetriesTheNamedMessagesOnly() async throws {
        let transport = ScriptedTransport([
            [Self.bob: .deferred("421 4.7.0 Try again later")],
            [Self.bob: .deferred("421 4.7.0 Try again later")],
            [:],  // delivered
        ])
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let first = try await harness.spool.commitMessage(recipients: [Self.bob])
        #expect(await harness.waitForState(first, attempts: 1) != nil)
        let second = try await harness.spool.commitMessage(recipients: [Self.bob])
        #expect(await harness.waitForState(second, attempts: 1) != nil)

        #expect(await harness.runner.flush([second, Self.unknown]) == [.done, .notFound])
        #expect(await harness.waitUntilRemoved(second))
        #expect(transport.calls.map(\.envelope.id) == [first, second, second])
        #expect(try await harness.spool.state(of: first).attempts == 1, "the other one still waits")
    }

    // MARK: statistics and attempt outcomes

    @Test func statisticsCountRecipientOutcomesAsTheLogDoes() async throws {
        let transport = ScriptedTransport([[
            Self.bob: .delivered("250 2.0.0 Ok"),
            Self.carol: .deferred("450 4.2.0 Mailbox busy"),
            Self.dave: .failed("550 5.1.1 No such user"),
        ]])
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let none = DeliveryStatistics(delivered: 0, deferred: 0, bounced: 0, active: 0, upstream: nil)
        #expect(await harness.runner.statistics() == none)
        let id = try await harness.spool.commitMessage(recipients: [Self.bob, Self.carol, Self.dave])

        let record = try #require(await harness.runner.awaitOutcome(of: id, timeout: .seconds(30)))
        #expect(record.recipients == [
            .init(address: Self.bob, status: .sent, reply: "250 2.0.0 Ok"),
            .init(address: Self.carol, status: .deferred, reply: "450 4.2.0 Mailbox busy"),
            .init(address: Self.dave, status: .bounced, reply: "550 5.1.1 No such user"),
        ])
        let oneEach = DeliveryStatistics(delivered: 1, deferred: 1, bounced: 1, active: 0, upstream: nil)
        #expect(await harness.runner.statistics() == oneEach)

        let other = try await harness.spool.commitMessage(recipients: [Self.bob])
        #expect(await harness.runner.awaitOutcome(of: other, timeout: .seconds(30)) != nil)
        #expect(await harness.runner.statistics().delivered == 2)
    }

    @Test func awaitingAnOutcomeBeforeTheAttemptEnds() async throws {
        let gate = Gate()
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .delivered("250 2.0.0 Ok")), gate: gate)
        defer { gate.open(); harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob])
        #expect(await harness.transport.waitForCalls(1))
        let runner = harness.runner
        let waiting = Task { await runner.awaitOutcome(of: id, timeout: .seconds(60)) }
        #expect(await eventually { runner.recentAttempts.waiterCount == 1 })
        #expect(await harness.runner.statistics().active == 1)
        let started = Date().timeIntervalSince1970
        gate.open()

        let record = try #require(await waiting.value)
        #expect(record.id == id)
        #expect(record.relay == "scripted")
        #expect(record.recipients == [.init(address: Self.bob, status: .sent, reply: "250 2.0.0 Ok")])
        #expect(record.finishedAt >= started - 1 && record.finishedAt <= Date().timeIntervalSince1970 + 1)
        #expect(runner.recentAttempts.waiterCount == 0)
        #expect(harness.temp.names(in: .queue) == [], "the queue already shows the outcome")
    }

    @Test func awaitingAnOutcomeAfterTheMessageWasDelivered() async throws {
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .delivered("250 2.0.0 Ok")))
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob])
        #expect(await harness.waitUntilRemoved(id))

        let record = try #require(await harness.runner.awaitOutcome(of: id, timeout: .milliseconds(1)))
        #expect(record.id == id)
        #expect(record.recipients.map(\.status) == [.sent])
    }

    @Test func awaitingAnOutcomeThatNeverComesTimesOutAndLeavesNothingBehind() async throws {
        let harness = try RunnerHarness(transport: ScriptedTransport(always: .delivered("250 2.0.0 Ok")))
        defer { harness.stop() }
        #expect(await harness.runner.awaitOutcome(of: Self.unknown, timeout: .milliseconds(200)) == nil)
        #expect(harness.runner.recentAttempts.waiterCount == 0)

        let runner = harness.runner
        let cancelled = Task { await runner.awaitOutcome(of: Self.unknown, timeout: .seconds(600)) }
        #expect(await eventually { runner.recentAttempts.waiterCount == 1 })
        cancelled.cancel()
        #expect(await cancelled.value == nil)
        #expect(runner.recentAttempts.waiterCount == 0)
    }
}

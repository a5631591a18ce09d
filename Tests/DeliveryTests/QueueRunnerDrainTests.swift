import Delivery
import Logging
import RelayTesting
import ServiceLifecycle
import Spool
import Testing

/// `shutdown.drain`: at shutdown the runner tries what is waiting at once and goes on until the queue is
/// empty or the drain time is up; without a drain it leaves the queue for the next start.
@Suite("QueueRunner drain at shutdown")
struct QueueRunnerDrainTests {
    static let bob = "bob@example.net"
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    /// An hour between attempts: nothing is retried during a test unless the drain makes it due.
    static let retry = RetryPolicy(
        first: .seconds(3600), maximum: .seconds(3600), multiplier: 1, jitter: 0, lifetime: .seconds(5 * 86_400))

    /// Runs a runner with `drain` in a ServiceGroup, commits one message, waits for its first attempt (the
    /// transport defers it), shuts the group down gracefully and returns how long the shutdown took.
    static func shutDownWithADeferredMessage(
        transport: ScriptedTransport, drain: Duration, _ check: (Spool, QueueID) async throws -> Void
    ) async throws -> Duration {
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        let runner = QueueRunner(
            spool: temp.spool, transport: transport,
            configuration: .init(workers: 1, retry: retry, drain: drain), logger: logger)
        let group = ServiceGroup(services: [runner], logger: logger)
        let running = Task { try await group.run() }
        let id = try await temp.spool.commitMessage(recipients: [bob])
        let spool = temp.spool
        #expect(await eventually { (try? await spool.loadState(id))?.attempts == 1 }, "the first attempt was deferred")

        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await running.value
        let took = started.duration(to: .now)
        try await check(temp.spool, id)
        return took
    }

    @Test func aDrainDeliversWhatIsWaitingAndEndsAsSoonAsTheQueueIsEmpty() async throws {
        let transport = ScriptedTransport([[Self.bob: .deferred("421 4.7.0 Try again later")], [Self.bob: .delivered("250 2.0.0 Ok")]])
        let took = try await Self.shutDownWithADeferredMessage(transport: transport, drain: .seconds(60)) { spool, id in
            await #expect(throws: SpoolError.notFound(id)) { try await spool.read(id) }
        }
        #expect(transport.callCount == 2, "tried again at once, not in an hour")
        #expect(took < .seconds(30), "no wait for the rest of the drain time")
    }

    @Test func withoutADrainTheQueueIsLeftAlone() async throws {
        let transport = ScriptedTransport([[Self.bob: .deferred("421 4.7.0 Try again later")], [Self.bob: .delivered("250 2.0.0 Ok")]])
        _ = try await Self.shutDownWithADeferredMessage(transport: transport, drain: .zero) { spool, id in
            let attempts = try await spool.loadState(id)?.attempts
            #expect(attempts == 1, "still queued for its next start")
        }
        #expect(transport.callCount == 1)
    }

    @Test func aDrainEndsWhenItsTimeIsUpAndTheMessageStaysQueued() async throws {
        let transport = ScriptedTransport(always: .deferred("421 4.7.0 Try again later"))
        let took = try await Self.shutDownWithADeferredMessage(transport: transport, drain: .seconds(1)) { spool, id in
            let attempts = try await spool.loadState(id)?.attempts
            #expect(attempts == 2, "tried once more, then kept")
        }
        #expect(took >= .seconds(1), "the drain used its time")
        #expect(took < .seconds(30))
    }
}

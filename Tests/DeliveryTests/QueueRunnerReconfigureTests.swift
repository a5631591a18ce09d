@testable import Delivery
import Logging
import RelayTesting
import ServiceLifecycle
import Spool
import Testing

/// `QueueRunner.reconfigure`: a configuration reload changes the retry policy, bounce reporting and drain
/// time from the next attempt on; the worker pool and scan cadence stay as started.
@Suite("QueueRunner reconfigure")
struct QueueRunnerReconfigureTests {
    static let bob = "bob@example.net"
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Ten minutes flat between attempts: unlike the harness's one minute, so the policy in use shows.
    static let reloadedRetry = RetryPolicy(
        first: .seconds(600), maximum: .seconds(3600), multiplier: 1, jitter: 0, lifetime: .seconds(5 * 86_400))

    @Test func theNextDeferralUsesTheReloadedRetryPolicy() async throws {
        let transport = ScriptedTransport(always: .deferred("421 4.7.0 Try again later"))
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob])
        let first = try #require(await harness.waitForState(id, attempts: 1))
        let firstAt = try #require(first.recipients.first?.at)
        #expect(abs(first.nextAttemptAt - (firstAt + 60)) < 0.01, "the policy the runner started with")

        harness.runner.reconfigure(.init(workers: 2, retry: Self.reloadedRetry))
        #expect(await harness.flushUntil(calls: 2))

        let second = try #require(await harness.waitForState(id, attempts: 2))
        let secondAt = try #require(second.recipients.first?.at)
        // The harness's policy would give 120 s here (60 s doubled).
        #expect(abs(second.nextAttemptAt - (secondAt + 600)) < 0.01, "got \(second.nextAttemptAt - secondAt)")
    }

    @Test func aShorterLifetimeExpiresAWaitingMessageAtItsNextAttempt() async throws {
        let transport = ScriptedTransport(always: .deferred("421 4.7.0 Try again later"))
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }
        let id = try await harness.spool.commitMessage(recipients: [Self.bob])
        #expect(await harness.waitForState(id, attempts: 1) != nil)

        var expiring = RunnerHarness.retry
        expiring.lifetime = .zero
        harness.runner.reconfigure(.init(workers: 2, retry: expiring, bounceReportingHost: nil))
        #expect(await harness.flushUntil(calls: 2))

        #expect(await harness.waitUntilRemoved(id), "failed for good instead of deferred again")
        #expect(transport.callCount == 2)
    }

    @Test func bouncesTurnedOnByAReloadReportTheNextFailure() async throws {
        // The sender's address (the bounce's recipient) is delivered; bob fails for good.
        let transport = ScriptedTransport([[Self.bob: .failed("550 5.1.1 No such user")]])
        let harness = try RunnerHarness(transport: transport)
        defer { harness.stop() }

        harness.runner.reconfigure(.init(workers: 2, retry: RunnerHarness.retry, bounceReportingHost: "reloaded.test"))
        let id = try await harness.spool.commitMessage(sender: "alice@example.org", recipients: [Self.bob])

        #expect(await transport.waitForCalls(2), "the failure and then its bounce")
        let bounce = try #require(transport.calls.last)
        #expect(bounce.envelope.sender == "")
        #expect(bounce.recipients == ["alice@example.org"])
        #expect(String(decoding: bounce.body, as: UTF8.self).contains("Reporting-MTA: dns; reloaded.test"))
        #expect(await harness.waitUntilRemoved(id))
    }

    /// `shutdown.drain` is read when the shutdown starts, so a reload before it counts.
    @Test func aDrainSetByAReloadIsUsedAtShutdown() async throws {
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        let transport = ScriptedTransport([[Self.bob: .deferred("421 4.7.0 Try again later")], [Self.bob: .delivered("250 2.0.0 Ok")]])
        let hourly = RetryPolicy(first: .seconds(3600), maximum: .seconds(3600), multiplier: 1, jitter: 0, lifetime: .seconds(86_400))
        let runner = QueueRunner(
            spool: temp.spool, transport: transport, configuration: .init(workers: 1, retry: hourly), logger: Self.logger)
        let group = ServiceGroup(services: [runner], logger: Self.logger)
        let running = Task { try await group.run() }
        let id = try await temp.spool.commitMessage(recipients: [Self.bob])
        let spool = temp.spool
        #expect(await eventually { (try? await spool.loadState(id))?.attempts == 1 }, "the first attempt was deferred")

        runner.reconfigure(.init(workers: 1, retry: hourly, drain: .seconds(60)))
        await group.triggerGracefulShutdown()
        try await running.value

        #expect(transport.callCount == 2, "tried again at shutdown, not in an hour")
        await #expect(throws: SpoolError.notFound(id)) { try await spool.read(id) }
    }

    @Test func workersExecutorAndScanIntervalStayAsStarted() throws {
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        let runner = QueueRunner(
            spool: temp.spool, transport: ScriptedTransport(always: .delivered("250 2.0.0 Ok")),
            configuration: .init(workers: 2, retry: RunnerHarness.retry, scanInterval: .seconds(60)), logger: Self.logger)

        runner.reconfigure(.init(
            workers: 9, retry: Self.reloadedRetry, scanInterval: .seconds(1), bounceReportingHost: "reloaded.test",
            failedRetention: .seconds(1), executor: .shared, drain: .seconds(30)))

        let configuration = runner.configuration
        #expect(configuration.retry == Self.reloadedRetry)
        #expect(configuration.bounceReportingHost == "reloaded.test")
        #expect(configuration.drain == .seconds(30))
        #expect(configuration.workers == 2)
        #expect(configuration.scanInterval == .seconds(60))
        #expect(configuration.executor == nil)
        #expect(configuration.failedRetention == .seconds(7 * 86_400))
    }
}

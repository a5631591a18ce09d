import Delivery
import Foundation
import Logging
import RelayTesting
import SMTPProtocol
import Spool
import Testing

/// The queue runner relaying through the upstream transport to the fake upstream: retries, outages and
/// restarts, as an operator would see them.
@Suite struct UpstreamRelayTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func retry(first: Duration) -> RetryPolicy {
        RetryPolicy(first: first, maximum: .seconds(3600), multiplier: 1, jitter: 0, lifetime: .seconds(86_400))
    }

    static func transport(port: UInt16) -> UpstreamTransport {
        UpstreamTransport(
            configuration: UpstreamConfiguration(
                host: "127.0.0.1", port: port, security: .none, tlsContext: nil, credentials: nil, heloName: "relay.test",
                connections: 4, connectTimeout: .seconds(60), commandTimeout: .seconds(60), dataTimeout: .seconds(60),
                idleTimeout: .seconds(10)),
            logger: logger)
    }

    static func runner(
        _ spool: Spool, port: UInt16, retry: RetryPolicy, bounces: Bool = true
    ) -> (QueueRunner, Task<Void, any Error>) {
        let runner = QueueRunner(
            spool: spool, transport: transport(port: port),
            configuration: .init(
                workers: 4, retry: retry, scanInterval: .seconds(60), bounceReportingHost: bounces ? "relay.test" : nil),
            logger: logger)
        return (runner, Task { try await runner.run() })
    }

    @Test func temporaryRefusalIsRetriedAfterTheBackoff() async throws {
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        var script = FakeUpstream.Script()
        script.temporaryFailures = 1
        script.temporaryFailureReply = "421 4.7.0 Try again later"
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let (_, task) = Self.runner(temp.spool, port: upstream.port, retry: Self.retry(first: .seconds(1)))
        defer { task.cancel() }

        let id = try await temp.spool.commitMessage()

        #expect(await eventually { upstream.messages.count == 1 })
        #expect(await eventually { temp.names(in: .queue).isEmpty }, "removed once delivered")
        #expect(upstream.messages.count == 1)
        #expect(upstream.commands.filter { $0.line.hasPrefix("MAIL") }.count == 2, "one refused attempt, one delivery")
        _ = id
    }

    @Test func backlogFromAnOutageIsDeliveredOnceWhenTheUpstreamReturns() async throws {
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        let port = try FakeUpstream.closedPort()
        let (_, task) = Self.runner(temp.spool, port: port, retry: Self.retry(first: .seconds(1)))
        defer { task.cancel() }

        var ids: [QueueID] = []
        for n in 0..<20 {
            ids.append(try await temp.spool.commitMessage(body: SpoolFixtures.body(subject: "outage \(n)")))
        }
        let spool = temp.spool
        let queued = ids
        #expect(await eventually {
            for id in queued where (try? await spool.loadState(id))?.attempts ?? 0 < 1 { return false }
            return true
        }, "every message was tried and deferred while the upstream was down")

        let upstream = try FakeUpstream(script: .init(), port: port)
        defer { upstream.stop() }
        // The upstream stays suspended after failed probes (5 s doubling to 60 s) before the next probe.
        #expect(await eventually(timeout: .seconds(150)) { temp.names(in: .queue).isEmpty })
        let subjects = upstream.messages.map { String(decoding: $0.data, as: UTF8.self) }
            .compactMap { $0.split(separator: "\r\n").first { $0.hasPrefix("Subject:") } }
        #expect(subjects.count == 20)
        #expect(Set(subjects).count == 20, "no message delivered twice")
    }

    @Test func restartKeepsTheRetrySchedule() async throws {
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        var script = FakeUpstream.Script()
        script.temporaryFailures = 1
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }

        let (_, first) = Self.runner(temp.spool, port: upstream.port, retry: Self.retry(first: .seconds(4)))
        let id = try await temp.spool.commitMessage()
        let spool = temp.spool
        #expect(await eventually { (try? await spool.loadState(id))?.attempts == 1 })
        first.cancel()
        _ = await first.result
        let due = try #require(try await spool.loadState(id)).nextAttemptAt

        // A new runner (as after a restart) learns of the message from a scan, with its recorded schedule.
        let (runner, second) = Self.runner(temp.spool, port: upstream.port, retry: Self.retry(first: .seconds(4)))
        defer { second.cancel() }
        await runner.enqueue(try await spool.scan().messages)

        #expect(await eventually { upstream.messages.count == 1 })
        let mails = upstream.commands.filter { $0.line.hasPrefix("MAIL") }
        #expect(mails.count == 2)
        let retried = try #require(mails.last).at
        #expect(retried >= due, "retried \(due - retried) s before its time")
    }

    @Test func permanentFailureSendsOneBounceAndKeepsTheMessage() async throws {
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        var script = FakeUpstream.Script()
        script.recipientReplies = ["gone@example.net": "550 5.1.1 <gone@example.net>: Recipient address rejected"]
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let (_, task) = Self.runner(temp.spool, port: upstream.port, retry: Self.retry(first: .seconds(60)))
        defer { task.cancel() }

        let id = try await temp.spool.commitMessage(
            sender: "alice@example.org", recipients: ["bob@example.net", "gone@example.net"])

        #expect(await eventually { upstream.messages.count == 2 })
        try await Task.sleep(for: .milliseconds(500))  // room for a wrong second bounce to show up
        let original = upstream.messages.filter { $0.sender == "alice@example.org" }
        let bounces = upstream.messages.filter { $0.sender == "" }
        #expect(original.map(\.recipients) == [["bob@example.net"]])
        #expect(bounces.count == 1)
        let bounce = try #require(bounces.first)
        #expect(bounce.recipients == ["alice@example.org"])
        let text = String(decoding: bounce.data, as: UTF8.self)
        #expect(text.contains("multipart/report; report-type=delivery-status"))
        #expect(text.contains("Final-Recipient: rfc822; gone@example.net"))
        #expect(text.contains("Status: 5.1.1"))
        #expect(!text.contains("Final-Recipient: rfc822; bob@example.net"))
        let failed = try await temp.spool.failedMessages().messages
        #expect(failed.map(\.id) == [id], "the original is kept in failed/")
    }

    @Test func aBounceIsNeverSentForTheNullSender() async throws {
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        var script = FakeUpstream.Script()
        script.recipientReplies = ["gone@example.net": "550 5.1.1 <gone@example.net>: Recipient address rejected"]
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let (_, task) = Self.runner(temp.spool, port: upstream.port, retry: Self.retry(first: .seconds(60)))
        defer { task.cancel() }

        let id = try await temp.spool.commitMessage(sender: "", recipients: ["gone@example.net"])

        let spool = temp.spool
        #expect(await eventually { (try? await spool.failedMessages().messages.map(\.id)) == [id] })
        try await Task.sleep(for: .milliseconds(500))
        #expect(upstream.messages.isEmpty, "no bounce of a bounce")
        #expect(upstream.commands.filter { $0.line.hasPrefix("MAIL") }.count == 1)
    }

    @Test func aHardFailureIsReportedAtOnceWhileOtherRecipientsWaitForRetry() async throws {
        let temp = try TemporarySpoolDirectory()
        defer { temp.remove() }
        var script = FakeUpstream.Script()
        script.recipientReplies = [
            "gone@example.net": "550 5.1.1 <gone@example.net>: Recipient address rejected",
            "busy@example.net": "452 4.2.2 Mailbox full",
        ]
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let (_, task) = Self.runner(temp.spool, port: upstream.port, retry: Self.retry(first: .seconds(3600)))
        defer { task.cancel() }

        let id = try await temp.spool.commitMessage(
            sender: "alice@example.org", recipients: ["gone@example.net", "busy@example.net"])

        #expect(await eventually { upstream.messages.count == 1 }, "the bounce goes out without waiting for busy@")
        let bounce = try #require(upstream.messages.first)
        #expect(bounce.sender == "" && bounce.recipients == ["alice@example.org"])
        let text = String(decoding: bounce.data, as: UTF8.self)
        #expect(text.contains("Final-Recipient: rfc822; gone@example.net"))
        #expect(!text.contains("busy@example.net"), "a deferred recipient is not reported as failed")
        let spool = temp.spool
        // The state is written right after the bounce is queued; the bounce may be delivered first.
        #expect(await eventually { (try? await spool.loadState(id))?.attempts == 1 })
        let state = try #require(try await spool.loadState(id))
        #expect(state.recipients.map(\.status) == [.failed, .deferred])
        #expect(state.recipients.map(\.senderNotified) == [true, nil], "recorded, so the end of the message does not bounce it again")
    }
}

import RelayTesting
import RelayctlCore
import Testing

@Suite("SMTPSubmission")
struct SMTPSubmissionTests {
    static let message = Array("Subject: hi\r\n\r\nhello\r\n".utf8)

    @Test func handsOverOneMessageAndReturnsTheFinalReply() async throws {
        let upstream = try FakeUpstream(script: .init())
        defer { upstream.stop() }
        let port = upstream.port
        let reply = try await onDedicatedThread {
            let submission = try SMTPSubmission(host: "127.0.0.1", port: port, timeout: .seconds(30))
            defer { submission.quit() }
            return try submission.submit(ehlo: "relayctl.localhost", from: "a@example.com", to: "b@example.org", message: Self.message)
        }
        #expect(reply.code == 250 && reply.queuedAs == "FAKE1")
        #expect(upstream.messages.map(\.recipients) == [["b@example.org"]])
        #expect(upstream.messages.first?.sender == "a@example.com")
        #expect(upstream.messages.first?.data == Self.message)
        #expect(upstream.commands.first?.line == "EHLO relayctl.localhost")
    }

    @Test func aRefusalCarriesTheCommandAndTheReply() async throws {
        var script = FakeUpstream.Script()
        script.recipientReplies = ["nobody@example.org": "550 5.1.1 No such user"]
        let upstream = try FakeUpstream(script: script)
        defer { upstream.stop() }
        let port = upstream.port
        let error = await #expect(throws: SMTPSubmissionError.self) {
            try await onDedicatedThread {
                let submission = try SMTPSubmission(host: "127.0.0.1", port: port, timeout: .seconds(30))
                _ = try submission.submit(ehlo: "x", from: "a@example.com", to: "nobody@example.org", message: Self.message)
            }
        }
        #expect(error == .refused(command: "RCPT TO:<nobody@example.org>", reply: SMTPReply(code: 550, lines: ["5.1.1 No such user"])))
    }

    @Test func nothingListeningIsUnreachable() async throws {
        let port = try FakeUpstream.closedPort()
        let error = await #expect(throws: SMTPSubmissionError.self) {
            try await onDedicatedThread { _ = try SMTPSubmission(host: "127.0.0.1", port: port, timeout: .seconds(5)) }
        }
        guard case .unreachable(let address, _) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(address == "127.0.0.1:\(port)")
    }

    @Test func wildcardListenersAreReachedOnLoopback() {
        #expect(SMTPSubmission.reachableHost(forListener: "0.0.0.0") == "127.0.0.1")
        #expect(SMTPSubmission.reachableHost(forListener: "::") == "::1")
        #expect(SMTPSubmission.reachableHost(forListener: "10.0.0.5") == "10.0.0.5")
    }
}

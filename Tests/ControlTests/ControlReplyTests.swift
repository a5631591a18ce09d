import Control
import FastJSON
import Spool
import Testing

@Suite("ControlReply")
struct ControlReplyTests {
    static let entry = QueueEntry(QueueEntryTests.spoolEntry(state: QueueEntryTests.triedState), now: QueueEntryTests.now)

    static var samples: [ControlReply] {
        var summary = QueueSummary()
        summary.add(entry)
        return [
            .message(entry),
            .summary(summary),
            .detail(MessageDetailTests.detail("Subject: hi\r\n\r\nbody")),
            .raw(RawMessage(id: QueueEntryTests.id, bytes: Array("Subject: ü\r\n\r\n\u{0}\u{ff}".utf8))),
            .changes(ChangeReport(items: [
                .init(id: QueueEntryTests.id, result: .done),
                .init(id: ControlRequestTests.b, result: .notFound, detail: "no such message"),
            ])),
            .stats(QueueStatistics(queue: summary)),
            .stats(QueueStatistics(
                queue: summary, lastHour: .init(delivered: 10, deferred: 2, bounced: 1),
                upstreams: [.init(endpoint: "smtp.example.com:587", reachable: false, lastError: "connect: refused", lastErrorAt: 1_714_564_800)])),
            .outcome(AttemptOutcome(id: QueueEntryTests.id, relay: "smtp.example.com[192.0.2.7]:587", recipients: [
                .init(address: "bob@example.net", status: .sent, reply: "250 2.0.0 Ok"),
                .init(address: "carol@example.com", status: .bounced, reply: "550 5.1.1 No such user"),
            ])),
            .timedOut(QueueEntryTests.id, timeoutSeconds: 30),
            .reload(ReloadReport(result: .applied, applied: ["upstream.password", "upstreams[1].port"], needsRestart: ["listen.smtp"])),
            .reload(ReloadReport(result: .unchanged)),
            .reload(ReloadReport(result: .refused, error: "relay.yaml: retry.jitter: 5 is out of range")),
            .error(ControlError(.notFound, "01HX0000000AB: no such message in the queue")),
        ]
    }

    @Test(arguments: samples)
    func everyReplyIsOneLineAndReadsBack(reply: ControlReply) throws {
        let bytes = reply.jsonBytes
        #expect(!bytes.contains(10))
        #expect(try ControlReply(jsonBytes: bytes) == reply)
    }

    @Test func wireFormsOfTheSmallReplies() {
        #expect(String(decoding: ControlReply.timedOut(QueueEntryTests.id, timeoutSeconds: 30).jsonBytes, as: UTF8.self)
            == #"{"timed_out":{"id":"01HX0000000AB","timeout_seconds":30}}"#)
        #expect(String(decoding: ControlReply.error(ControlError(.badRequest, "unknown command \"x\"")).jsonBytes, as: UTF8.self)
            == #"{"error":{"code":"bad_request","message":"unknown command \"x\""}}"#)
        #expect(String(decoding: ControlReply.raw(RawMessage(id: QueueEntryTests.id, bytes: Array("hi".utf8))).jsonBytes, as: UTF8.self)
            == #"{"raw":{"id":"01HX0000000AB","size":2,"base64":"aGk="}}"#)
        #expect(String(decoding: ControlReply.changes(ChangeReport(items: [.init(id: QueueEntryTests.id, result: .alreadyDelivered)])).jsonBytes, as: UTF8.self)
            == #"{"changes":{"count":0,"items":[{"id":"01HX0000000AB","result":"already_delivered","detail":null}]}}"#)
        #expect(String(decoding: ControlReply.reload(ReloadReport(result: .refused, error: "bad")).jsonBytes, as: UTF8.self)
            == #"{"reload":{"result":"refused","applied":[],"needs_restart":[],"error":"bad"}}"#)
        #expect(String(decoding: ControlReply.stats(QueueStatistics(queue: QueueSummary())).jsonBytes, as: UTF8.self)
            == #"{"stats":{"queue":{"messages":0,"counts":{"queued":0,"active":0,"deferred":0,"held":0,"failed":0},"bytes":0,"oldest_age_seconds":null,"unreadable":[]},"last_hour":null,"upstreams":null}}"#)
    }

    @Test func anUnknownErrorCodeReadsAsInternalAndAnUnknownReplyIsRefused() throws {
        #expect(try ControlReply(jsonBytes: Array(#"{"error":{"code":"on_fire","message":"m"}}"#.utf8)) == .error(ControlError(.internal, "m")))
        #expect(throws: JSONError.self) { try ControlReply(jsonBytes: Array(#"{"surprise":{}}"#.utf8)) }
    }

    @Test func onlyAListedMessageIsNotFinal() {
        for reply in Self.samples {
            if case .message = reply { #expect(!reply.isFinal) } else { #expect(reply.isFinal) }
        }
    }
}

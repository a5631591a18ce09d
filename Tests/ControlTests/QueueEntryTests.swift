import Control
import FastJSON
import Spool
import Testing

@Suite("QueueEntry")
struct QueueEntryTests {
    static let id = QueueID("01HX0000000AB")!
    static let now = 1_714_568_400.0  // 2024-05-01T13:00:00Z

    static func spoolEntry(
        state: DeliveryState? = nil, location: SpoolEntry.Location = .queue, failedAt: Double? = nil, sender: String = "alice@example.org"
    ) -> SpoolEntry {
        let envelope = MessageEnvelope(
            id: id, sender: sender, recipients: ["bob@example.net", "carol@example.com"], receivedAt: 1_714_564_800.75,
            clientAddress: "192.0.2.1", clientName: "client.example", eightBitMIME: false, smtputf8: false)
        return SpoolEntry(
            envelope: envelope, state: state ?? DeliveryState(recipients: envelope.recipients), hasStateFile: state != nil,
            size: 1234, location: location, failedAt: failedAt)
    }

    static var triedState: DeliveryState {
        var state = DeliveryState(recipients: ["bob@example.net", "carol@example.com"], nextAttemptAt: 1_714_570_200.5)
        state.attempts = 2
        state.recipients[0] = .init(address: "bob@example.net", status: .deferred, reply: "421 4.7.0 Try again later", at: 1_714_566_000)
        state.recipients[1] = .init(address: "carol@example.com", status: .delivered, reply: "250 2.0.0 Ok", at: 1_714_565_000)
        return state
    }

    @Test func theJSONSchemaFieldByField() throws {
        let entry = QueueEntry(Self.spoolEntry(state: Self.triedState), now: Self.now)
        let json = String(decoding: entry.jsonBytes, as: UTF8.self)
        #expect(json == """
            {"id":"01HX0000000AB","state":"deferred","size":1234,\
            "arrival":"2024-05-01T12:00:00Z","arrival_epoch":1714564800,"age_seconds":3599,"attempts":2,\
            "next_attempt":"2024-05-01T13:30:00Z","next_attempt_epoch":1714570200,\
            "failed_at":null,"failed_at_epoch":null,\
            "sender":"alice@example.org","client":{"address":"192.0.2.1","name":"client.example"},\
            "recipients":[{"address":"bob@example.net","status":"deferred","reply":"421 4.7.0 Try again later","at":"2024-05-01T12:20:00Z"},\
            {"address":"carol@example.com","status":"delivered","reply":"250 2.0.0 Ok","at":"2024-05-01T12:03:20Z"}],\
            "last_reply":"421 4.7.0 Try again later"}
            """)
        #expect(try QueueEntry(jsonBytes: entry.jsonBytes) == entry)
    }

    @Test func aFreshMessageHasNullsWhereNothingIsKnownYet() throws {
        let entry = QueueEntry(Self.spoolEntry(sender: ""), now: Self.now)
        let value = try JSONParser.parse(entry.jsonBytes)
        #expect(value["state"] == .string("queued"))
        #expect(value["sender"] == .string(""), "the null sender <> is the empty string")
        #expect(value["attempts"] == .int(0))
        #expect(value["next_attempt"] == .null && value["next_attempt_epoch"] == .null)
        #expect(value["last_reply"] == .null)
        #expect(value["recipients"] == .array([
            .object([("address", .string("bob@example.net")), ("status", .string("pending")), ("reply", .null), ("at", .null)]),
            .object([("address", .string("carol@example.com")), ("status", .string("pending")), ("reply", .null), ("at", .null)]),
        ]))
        #expect(try QueueEntry(jsonBytes: entry.jsonBytes) == entry)
    }

    @Test func stateComesFromFolderActivityHoldAndAttempts() {
        var held = Self.triedState
        held.held = true
        let cases: [(SpoolEntry, Bool, QueueEntry.State, Int?)] = [
            (Self.spoolEntry(), false, .queued, nil),
            (Self.spoolEntry(state: Self.triedState), false, .deferred, 1_714_570_200),
            (Self.spoolEntry(state: Self.triedState), true, .active, nil),
            (Self.spoolEntry(state: held), false, .held, nil),
            (Self.spoolEntry(state: held), true, .active, nil),
            (Self.spoolEntry(state: Self.triedState, location: .failed, failedAt: 1_714_567_000), true, .failed, nil),
        ]
        for (spoolEntry, active, state, nextAttempt) in cases {
            let entry = QueueEntry(spoolEntry, now: Self.now, active: active)
            #expect(entry.state == state)
            #expect(entry.nextAttempt == nextAttempt, "\(state)")
        }
        let failed = QueueEntry(Self.spoolEntry(location: .failed, failedAt: 1_714_567_000.9), now: Self.now)
        #expect(failed.failedAt == 1_714_567_000)
    }

    @Test func lastReplyIsTheMostRecentOneElseTheAttemptsError() {
        var state = Self.triedState
        state.recipients[1].at = 1_714_567_000
        #expect(QueueEntry(Self.spoolEntry(state: state), now: Self.now).lastReply == "250 2.0.0 Ok")
        var failedToConnect = DeliveryState(recipients: ["bob@example.net"])
        failedToConnect.attempts = 1
        failedToConnect.lastError = "connect: connection refused"
        #expect(QueueEntry(Self.spoolEntry(state: failedToConnect), now: Self.now).lastReply == "connect: connection refused")
    }

    @Test func ageNeverGoesNegative() {
        #expect(QueueEntry(Self.spoolEntry(), now: 1_714_564_000).ageSeconds == 0, "a clock stepped back")
    }

    @Test(arguments: [
        (#"{"id":"nope"}"#, "\"id\" is not a queue id"),
        (#"{"id":"01HX0000000AB","state":"lost"}"#, "\"state\" must be one of"),
    ])
    func readingNamesTheBadMember(json: String, message: String) {
        let error = #expect(throws: JSONError.self) { try QueueEntry(jsonBytes: Array(json.utf8)) }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test func membersANewerRelaydAddsAreSkipped() throws {
        let entry = QueueEntry(Self.spoolEntry(state: Self.triedState), now: Self.now)
        var text = String(decoding: entry.jsonBytes, as: UTF8.self)
        text.removeLast()
        text += #","priority":{"level":[1,2,{"x":null}]},"recipients_total":2}"#
        #expect(try QueueEntry(jsonBytes: Array(text.utf8)) == entry)
    }

    @Test func aMissingRequiredMemberIsNamed() throws {
        let entry = QueueEntry(Self.spoolEntry(state: Self.triedState), now: Self.now)
        let text = String(decoding: entry.jsonBytes, as: UTF8.self).replacingOccurrences(of: #""attempts":"#, with: #""tries":"#)
        let error = #expect(throws: JSONError.self) { try QueueEntry(jsonBytes: Array(text.utf8)) }
        #expect(error?.message == #""attempts" is missing"#)
    }
}

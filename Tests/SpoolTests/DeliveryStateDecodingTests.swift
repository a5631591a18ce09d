import FastJSON
import Foundation
@testable import Spool
import Testing

/// State files are decoded by a fast path (FastJSON) with JSONDecoder behind it; the fast path must take
/// every member the spool writes, attempt history included, or a deferred queue lists at JSONDecoder's pace.
@Suite("Delivery state decoding")
struct DeliveryStateDecodingTests {
    @Test func theFastPathDecodesEverythingTheEncoderWrites() throws {
        var state = DeliveryState(recipients: ["a@example.net", "b@example.net"], nextAttemptAt: 1_700_000_123.5)
        state.attempts = 2
        state.held = true
        state.lastError = "connect: refused"
        state.recipients[0].status = .deferred
        state.recipients[0].reply = "421 4.7.0 \"busy\"\tnow"
        state.recipients[0].at = 1_700_000_000.25
        state.recipients[1].status = .failed
        state.recipients[1].senderNotified = true
        state.record(.init(at: 1_699_999_000.5, relay: "r[192.0.2.1]:587", recipients: [state.recipients[0]]))
        state.record(.init(at: 1_700_000_000.25, relay: "r[192.0.2.1]:587", recipients: state.recipients))
        let bytes = Array(try JSONEncoder().encode(state))

        #expect(try DeliveryState(knownMembersOf: JSONParser.parse(bytes)) == state, "decoded without the fallback")
        #expect(try DeliveryState.decode(json: bytes) == state)
    }

    @Test func aStateWrittenBeforeHistoryExistedDecodes() throws {
        let bytes = Array(#"{"attempts":1,"nextAttemptAt":5,"held":false,"recipients":[{"address":"a@x","status":"deferred"}]}"#.utf8)
        let state = try DeliveryState(knownMembersOf: JSONParser.parse(bytes))
        #expect(state.history == nil)
        #expect(state.recipients.map(\.status) == [.deferred])
    }
}

import Control
import Spool
import Testing

@Suite("QueueOccupancy")
struct QueueOccupancyTests {
    static let now = 1_714_568_400.0

    static func entry(
        _ id: String, size: Int, receivedAt: Double, attempts: Int = 0, held: Bool = false,
        location: SpoolEntry.Location = .queue
    ) -> SpoolEntry {
        let envelope = MessageEnvelope(
            id: QueueID(id)!, sender: "a@example.org", recipients: ["b@example.net"], receivedAt: receivedAt,
            clientAddress: "192.0.2.1", clientName: "client", eightBitMIME: false, smtputf8: false)
        var state = DeliveryState(recipients: envelope.recipients)
        state.attempts = attempts
        state.held = held
        return SpoolEntry(envelope: envelope, state: state, hasStateFile: attempts > 0, size: size, location: location)
    }

    @Test func countsMessagesAndBytesPerStateAndTheOldestUnfinishedAge() {
        let entries = [
            Self.entry("01HX0000000A1", size: 100, receivedAt: Self.now - 10),
            Self.entry("01HX0000000A2", size: 200, receivedAt: Self.now - 500, attempts: 2),
            Self.entry("01HX0000000A3", size: 300, receivedAt: Self.now - 60, attempts: 1),
            Self.entry("01HX0000000A4", size: 400, receivedAt: Self.now - 30, held: true),
            Self.entry("01HX0000000A5", size: 500, receivedAt: Self.now - 9_000, attempts: 3, location: .failed),
            Self.entry("01HX0000000A6", size: 600, receivedAt: Self.now - 5),
        ]
        let occupancy = QueueOccupancy(entries, active: [QueueID("01HX0000000A6")!], now: Self.now)
        #expect(occupancy.messages == QueueStateCounts(queued: 1, active: 1, deferred: 2, held: 1, failed: 1))
        #expect(occupancy.bytes == QueueStateCounts(queued: 100, active: 600, deferred: 500, held: 400, failed: 500))
        #expect(occupancy.oldestAgeSeconds == 500, "failed messages are finished and do not count")
    }

    @Test func anEmptyQueueHasNoOldestAge() {
        let occupancy = QueueOccupancy([SpoolEntry](), active: [], now: Self.now)
        #expect(occupancy == QueueOccupancy())
        #expect(occupancy.oldestAgeSeconds == nil)
    }
}

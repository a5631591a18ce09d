import Control
import Foundation
import RelayTesting
import Spool
import Testing

@Suite("SpoolInspector")
struct SpoolInspectorTests {
    static let io = BlockingIOPool(threads: 1)

    static func inspector(_ temp: TemporarySpoolDirectory, now: Double = Date().timeIntervalSince1970) -> SpoolInspector {
        SpoolInspector(root: temp.root, io: io, clock: { now })
    }

    static func list(_ handler: some ControlHandler, _ filter: QueueFilter = .all) async throws -> ([QueueEntry], QueueSummary) {
        let collected = EntryCollector()
        let summary = try await handler.queue(filter) { collected.append($0) }
        return (collected.entries, summary)
    }

    /// A message to carol@example.com tried once: 451, next try in ten minutes.
    static func commitDeferred(_ temp: TemporarySpoolDirectory) async throws -> QueueID {
        let id = try await temp.spool.commitMessage(recipients: ["carol@example.com"])
        var state = DeliveryState(recipients: ["carol@example.com"], nextAttemptAt: Date().timeIntervalSince1970 + 600)
        state.attempts = 1
        state.recipients[0] = .init(address: "carol@example.com", status: .deferred, reply: "451 4.3.0 busy", at: Date().timeIntervalSince1970)
        try await temp.spool.writeState(state, for: id)
        return id
    }

    @Test func listsTheSpoolWithStatesFilterAndActiveMarks() async throws {
        try await withTemporarySpool { temp in
            let fresh = try await temp.spool.commitMessage(sender: "", recipients: ["bob@example.net"])
            let deferred = try await Self.commitDeferred(temp)
            let held = try await temp.spool.commitMessage()
            var heldState = DeliveryState(recipients: ["bob@example.net"])
            heldState.held = true
            try await temp.spool.writeState(heldState, for: held)
            let failed = try await temp.spool.commitMessage()
            var finalState = DeliveryState(recipients: ["bob@example.net"])
            finalState.recipients[0].status = .failed
            try await temp.spool.retireFailed(failed, state: finalState)
            try Data("junk".utf8).write(to: URL(fileURLWithPath: temp.spool.layout.queue + "/0123456789ABC.msg"))

            let firstArrival = try SpoolReader(root: temp.root).entry(fresh).envelope.receivedAt
            let inspector = Self.inspector(temp, now: firstArrival + 100.5)
            let (entries, summary) = try await Self.list(inspector)
            #expect(entries.map(\.id) == [fresh, deferred, held, failed])
            #expect(entries.map(\.state) == [.queued, .deferred, .held, .failed])
            #expect(entries[1].lastReply == "451 4.3.0 busy")
            #expect(summary.counts == QueueStateCounts(queued: 1, deferred: 1, held: 1, failed: 1))
            #expect(summary.unreadable.count == 1 && summary.unreadable[0].contains("0123456789ABC.msg"))
            #expect(summary.bytes == entries.reduce(0) { $0 + $1.size })
            #expect(summary.oldestAgeSeconds == 100, "the first message is the oldest; failed ones do not count")

            let (onlyHeld, heldSummary) = try await Self.list(inspector, QueueFilter(states: [.held, .deferred], to: "carol"))
            #expect(onlyHeld.map(\.id) == [deferred])
            #expect(heldSummary.messages == 1)

            let marked = EntryCollector()
            _ = try await inspector.queue(.all, active: [deferred]) { marked.append($0) }
            #expect(marked.entries.map(\.state) == [.queued, .active, .held, .failed])
        }
    }

    @Test func relaydsCatalogListsWhatTheFilesList() async throws {
        try await withTemporarySpool { temp in
            _ = try await temp.spool.recover()
            _ = try await temp.spool.commitMessage(sender: "", recipients: ["bob@example.net", "carol@example.com"])
            _ = try await Self.commitDeferred(temp)
            let held = try await temp.spool.commitMessage()
            try await temp.spool.setHeld(true, for: held)
            let failed = try await temp.spool.commitMessage()
            var finalState = DeliveryState(recipients: ["bob@example.net"])
            finalState.recipients[0].status = .failed
            try await temp.spool.retireFailed(failed, state: finalState)
            let delivered = try await temp.spool.commitMessage()
            try await temp.spool.remove(delivered)

            let now = Date().timeIntervalSince1970
            let fromFiles = Self.inspector(temp, now: now)
            let fromCatalog = SpoolInspector(root: temp.root, io: Self.io, catalog: temp.spool.catalog, clock: { now })
            // Only the retire time may differ: the catalog's clock at the retire, the state file's mtime on disk.
            func comparable(_ listing: ([QueueEntry], QueueSummary)) -> [QueueEntry] {
                listing.0.map { entry in
                    var entry = entry
                    entry.failedAt = entry.failedAt.map { _ in 0 }
                    return entry
                }
            }
            for filter in [QueueFilter.all, QueueFilter(states: [.held, .failed]), QueueFilter(to: "carol")] {
                let files = try await Self.list(fromFiles, filter)
                let catalog = try await Self.list(fromCatalog, filter)
                #expect(comparable(catalog) == comparable(files))
                #expect(catalog.1 == files.1)
            }
            #expect(try await Self.list(fromCatalog).0.map(\.state) == [.queued, .deferred, .held, .failed])
        }
    }

    @Test func aListingLongerThanAChunkStreamsInOrder() async throws {
        let directory = try TemporaryDirectory()
        let root = directory.appending("spool")
        let ids = try await onDedicatedThread { try SpoolFixtures.writeCommittedMessages(root: root, count: 5_000, bodySize: 300) }
        let inspector = SpoolInspector(root: root, io: Self.io)
        let (entries, summary) = try await Self.list(inspector)
        #expect(entries.map(\.id) == ids)
        #expect(summary.messages == 5_000 && summary.bytes == 5_000 * 300)
        let (some, _) = try await Self.list(inspector, QueueFilter(states: [.deferred]))
        #expect(some.isEmpty)
    }

    @Test func showGivesTheHeadersAndShowRawTheBytes() async throws {
        try await withTemporarySpool { temp in
            let body = Array("Subject: hello\r\nFrom: a@example.org\r\n\r\nsecret body\r\n".utf8)
            let id = try await temp.spool.commitMessage(body: body)
            let inspector = Self.inspector(temp)
            let detail = try await inspector.show(id)
            #expect(detail.entry.id == id)
            #expect(detail.headers == "Subject: hello\r\nFrom: a@example.org\r\n")
            #expect(!detail.headersTruncated)
            #expect(try await inspector.show(id, active: true).entry.state == .active)
            #expect(try await inspector.showRaw(id) == RawMessage(id: id, bytes: body))

            let missing = QueueID("0123456789ABC")!
            await #expect(throws: ControlError.notFound(missing)) { try await inspector.show(missing) }
            await #expect(throws: ControlError.notFound(missing)) { try await inspector.showRaw(missing) }
        }
    }

    @Test func statsCountTheSpoolAndLeaveTheDaemonsPartsOut() async throws {
        try await withTemporarySpool { temp in
            try await temp.spool.commitMessage(body: SpoolFixtures.message(size: 2_000))
            try await temp.spool.commitMessage(body: SpoolFixtures.message(size: 3_000))
            let stats = try await Self.inspector(temp).stats()
            #expect(stats.queue.counts.queued == 2)
            #expect(stats.queue.bytes == 5_000)
            #expect(stats.lastHour == nil && stats.upstreams == nil)
        }
    }

    @Test func changesNeedTheDaemon() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            let inspector = Self.inspector(temp)
            let error = await #expect(throws: ControlError.self) { try await inspector.hold([id]) }
            #expect(error?.code == .unavailable)
            #expect(error?.message == "hold needs relayd, which is not running; start it and try again")
            await #expect(throws: ControlError.self) { try await inspector.delete(state: .failed) }
            await #expect(throws: ControlError.self) { try await inspector.awaitOutcome(id, timeout: .seconds(1)) }
            let reload = await #expect(throws: ControlError.self) { try await inspector.reload() }
            #expect(reload?.code == .unavailable)
        }
    }
}

/// Collects listed entries from a handler's `emit`.
final class EntryCollector: @unchecked Sendable {
    private(set) var entries: [QueueEntry] = []
    func append(_ entry: QueueEntry) { entries.append(entry) }
}

import Foundation
import RelayTesting
import Spool
import Testing

/// What a `kill -9` at a bad moment leaves behind, planted by hand, then a restart's recovery.
///
/// The rule under test: every message that got its commit acknowledged (the 250) comes back intact;
/// everything never acknowledged disappears or is quarantined, never delivered half-written.
@Suite("Crash simulation")
struct CrashSimulationTests {
    @Test func restartKeepsEveryAcknowledgedMessageAndNothingElse() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let layout = spool.layout

            // Acknowledged: committed, some with delivery state from earlier attempts.
            var acknowledged: [QueueID: [UInt8]] = [:]
            for n in 0..<20 {
                let body = SpoolFixtures.randomBytes(n == 7 ? 600_000 : 500 + n * 37, seed: UInt64(n))
                acknowledged[try await spool.commitMessage(body: body)] = body
            }
            let withState = acknowledged.keys.sorted()[3]
            var state = DeliveryState(recipients: ["bob@example.net"], nextAttemptAt: 1_900_000_000)
            state.attempts = 2
            try await spool.writeState(state, for: withState)

            // 1. A large receipt mid-DATA: spilled to a file in recycle/, never committed (the session is still
            //    alive). Files in the bin are garbage to a restart: neither queued nor quarantined.
            let streaming = spool.beginReceipt(
                sender: "x@example.org", recipients: ["y@example.net"], clientAddress: "192.0.2.9",
                clientName: "slow", eightBitMIME: false, smtputf8: false)
            try await streaming.append(SpoolFixtures.randomBytes(SpoolReceipt.spillThreshold + 10, seed: 99))
            // 2. A state rewrite cut off before its rename.
            try Array("{\"attempts\":".utf8).write(to: layout.incoming + "/\(withState).state.tmp")
            // 3. A commit whose rename reached the disk but not all of its data (crash before the syncfs).
            let torn = try #require(QueueID("0000000000001"))
            let tornBytes = MessageFileFormat.preamble(bodySize: 1000)
                + Array("{\"id\":\"0000000000001\",\"sender\":\"a@b\",\"recipients\":[\"c@d\"],".utf8)
            try tornBytes.write(to: layout.messagePath(torn))
            // 4. The same, with nothing but the name on disk.
            let empty = try #require(QueueID("0000000000002"))
            try [UInt8]().write(to: layout.messagePath(empty))
            // 5. A removal interrupted between its two unlinks.
            let removed = try await spool.commitMessage()
            try await spool.writeState(DeliveryState(recipients: ["bob@example.net"]), for: removed)
            unlink(layout.messagePath(removed))

            let report = try await temp.reopen().recover()
            withExtendedLifetime(streaming) {}  // the receiving session was still alive at the "crash"

            #expect(temp.names(in: .recycle).count == 1, "the spill is in the bin, not in incoming/")
            #expect(report.discardedIncoming == 1, "the cut-off state rewrite")
            #expect(temp.names(in: .incoming) == [])
            #expect(Set(report.messages.map(\.id)) == Set(acknowledged.keys))
            #expect(report.messages.count == acknowledged.count)
            #expect(report.messages.first { $0.id == withState }?.state == state)
            #expect(report.quarantined.count == 2)
            #expect(temp.names(in: .corrupt) == ["\(torn).msg", "\(empty).msg"])
            #expect(!temp.names(in: .queue).contains("\(removed).state"))

            let restarted = try temp.reopen()
            for (id, body) in acknowledged {
                let read = try await restarted.read(id)
                #expect(read.body == body, "\(id) reads back byte for byte")
            }
            // The restarted spool writes its next message into the left-over spill file, and only its bytes.
            let next = SpoolFixtures.body(subject: "after the restart")
            let nextID = try await restarted.commitMessage(body: next)
            #expect(temp.names(in: .recycle) == [])
            #expect(try await restarted.read(nextID).body == next)
        }
    }

    @Test func everyPrefixOfAQueueFileIsEitherCompleteOrQuarantined() async throws {
        try await withTemporarySpool { temp in
            let layout = temp.spool.layout
            let id = try await temp.spool.commitMessage(body: SpoolFixtures.body())
            let whole = try contents(of: layout.messagePath(id))
            unlink(layout.messagePath(id))
            let restarted = try temp.reopen()
            // A torn write can end anywhere: in the preamble, the envelope, the body.
            for length in Set(stride(from: 0, to: whole.count, by: 7)).union([17, 18, 19, whole.count - 1]).sorted() {
                try Array(whole.prefix(length)).write(to: layout.messagePath(id))
                let report = try await restarted.recover()
                #expect(report.messages.isEmpty, "a \(length)-byte prefix must not be taken for a message")
                #expect(report.quarantined.count == 1, "a \(length)-byte prefix is reported")
                unlink(layout.corrupt + "/\(id).msg")
            }
            try whole.write(to: layout.messagePath(id))
            #expect(try await restarted.recover().messages.map(\.id) == [id])
        }
    }
}

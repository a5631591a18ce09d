import Foundation
import RelayTesting
import Spool
import Testing

@Suite("Spool recovery")
struct SpoolRecoveryTests {
    @Test func incomingFilesAreDiscardedAndCounted() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            for name in ["0123456789ABC.msg", "0123456789ABD.msg", "0123456789ABE.state.tmp"] {
                try Array("partial".utf8).write(to: temp.spool.layout.incoming + "/" + name)
            }
            let report = try await temp.reopen().recover()
            #expect(report.discardedIncoming == 3)
            #expect(report.messages.map(\.id) == [id])
            #expect(report.quarantined == [])
            #expect(temp.names(in: .incoming) == [])
        }
    }

    @Test func truncatedQueueFileIsQuarantinedNotDeleted() async throws {
        try await withTemporarySpool { temp in
            let good = try await temp.spool.commitMessage()
            let cut = try await temp.spool.commitMessage(body: SpoolFixtures.randomBytes(5_000, seed: 1))
            let path = temp.spool.layout.messagePath(cut)
            let whole = try contents(of: path)
            try Array(whole.prefix(whole.count - 100)).write(to: path)

            let report = try await temp.reopen().recover()
            #expect(report.messages.map(\.id) == [good])
            #expect(report.quarantined.count == 1)
            #expect(report.quarantined.first.map { "\($0)" }?.contains(cut.rawValue) == true)
            #expect(temp.names(in: .queue) == ["\(good).msg"])
            #expect(temp.names(in: .corrupt) == ["\(cut).msg"])
            #expect(try contents(of: temp.spool.layout.corrupt + "/\(cut).msg") == Array(whole.prefix(whole.count - 100)),
                    "kept byte for byte for the operator")
        }
    }

    @Test(arguments: [
        ("garbage", Array("hello, this is not a queue file\n".utf8)),
        ("empty", []),
        ("preamble only", Array("MRQ1 000000000010\n".utf8)),
        ("bad envelope", Array("MRQ1 000000000002\n{\"id\":42}\nhi".utf8)),
        ("binary", SpoolFixtures.randomBytes(300, seed: 9)),
    ])
    func unreadableQueueFileIsQuarantined(label: String, bytes: [UInt8]) async throws {
        try await withTemporarySpool { temp in
            let id = try #require(QueueID("0123456789ABC"))
            try bytes.write(to: temp.spool.layout.messagePath(id))
            let report = try await temp.reopen().recover()
            #expect(report.messages.isEmpty, "\(label)")
            #expect(report.quarantined.count == 1, "\(label)")
            guard case .corrupt(let path, _)? = report.quarantined.first else {
                Issue.record("expected a .corrupt report for \(label)")
                return
            }
            #expect(path == temp.spool.layout.messagePath(id))
            #expect(temp.names(in: .queue) == [])
            #expect(try contents(of: temp.spool.layout.corrupt + "/\(id).msg") == bytes)
        }
    }

    @Test func fileWhoseEnvelopeNamesAnotherIDIsQuarantined() async throws {
        try await withTemporarySpool { temp in
            let real = try await temp.spool.commitMessage()
            let other = try #require(QueueID("0123456789ABC"))
            try contents(of: temp.spool.layout.messagePath(real)).write(to: temp.spool.layout.messagePath(other))
            let report = try await temp.reopen().recover()
            #expect(report.messages.map(\.id) == [real])
            #expect(temp.names(in: .corrupt) == ["\(other).msg"])
        }
    }

    @Test func fileNameThatIsNotAQueueIDIsQuarantined() async throws {
        try await withTemporarySpool { temp in
            try SpoolFixtures.body().write(to: temp.spool.layout.queue + "/not-an-id.msg")
            let report = try await temp.reopen().recover()
            #expect(report.quarantined.count == 1)
            #expect(temp.names(in: .corrupt) == ["not-an-id.msg"])
            #expect(temp.names(in: .queue) == [])
        }
    }

    @Test func staleStateWithoutMessageIsRemoved() async throws {
        try await withTemporarySpool { temp in
            let id = try #require(QueueID("0123456789ABC"))
            try Array("{}".utf8).write(to: temp.spool.layout.statePath(id))
            let report = try await temp.reopen().recover()
            #expect(report.messages.isEmpty)
            #expect(report.quarantined.isEmpty)
            #expect(temp.names(in: .queue) == [])
        }
    }

    /// Losing the state must not lose the message: it stays queued with a fresh state (at worst a recipient
    /// already served gets it twice) and only the unreadable state goes to corrupt/, reported.
    @Test(arguments: [
        ("truncated", Array("{truncated".utf8)),
        ("empty", []),
        ("wrong shape", Array("{\"attempts\":\"three\"}".utf8)),
        ("binary", SpoolFixtures.randomBytes(200, seed: 4)),
    ])
    func unreadableStateIsQuarantinedAndTheMessageKept(label: String, bytes: [UInt8]) async throws {
        try await withTemporarySpool { temp in
            let body = SpoolFixtures.randomBytes(1_234, seed: 5)
            let id = try await temp.spool.commitMessage(recipients: ["bob@example.net", "carol@example.com"], body: body)
            try bytes.write(to: temp.spool.layout.statePath(id))
            let report = try await temp.reopen().recover()
            #expect(report.messages.map(\.id) == [id], "\(label): the message is kept")
            #expect(report.messages.first?.state == DeliveryState(recipients: ["bob@example.net", "carol@example.com"]),
                    "\(label): with a fresh state")
            #expect(report.messages.first?.size == body.count)
            #expect(report.quarantined.count == 1, "\(label): the state is reported")
            guard case .corrupt(let path, _)? = report.quarantined.first else {
                Issue.record("expected a .corrupt report for \(label), got \(report.quarantined)")
                return
            }
            #expect(path == temp.spool.layout.statePath(id))
            #expect(temp.names(in: .corrupt) == ["\(id).state"])
            #expect(try contents(of: temp.spool.layout.corrupt + "/\(id).state") == bytes, "kept byte for byte")
            #expect(temp.names(in: .queue) == ["\(id).msg"])
            #expect(try await temp.spool.read(id).body == body)

            let again = try await temp.reopen().recover()
            #expect(again.messages.map(\.id) == [id] && again.quarantined.isEmpty, "\(label): reported once")
        }
    }

    @Test func recoveryIsIdempotent() async throws {
        try await withTemporarySpool { temp in
            let ids = [try await temp.spool.commitMessage(), try await temp.spool.commitMessage()]
            try Array("x".utf8).write(to: temp.spool.layout.incoming + "/0123456789ABC.msg")
            try Array("x".utf8).write(to: temp.spool.layout.queue + "/0123456789ABD.msg")
            let first = try await temp.reopen().recover()
            let second = try await temp.reopen().recover()
            #expect(first.messages.map(\.id) == ids && second.messages.map(\.id) == ids)
            #expect(first.discardedIncoming == 1 && second.discardedIncoming == 0)
            #expect(first.quarantined.count == 1 && second.quarantined.isEmpty)
        }
    }
}

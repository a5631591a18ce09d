import Delivery
import Foundation
import RelayTesting
import Spool
import Testing

@Suite("OutboxTransport")
struct OutboxTransportTests {
    static func message(id: QueueID, body: [UInt8], recipients: [String]) -> OutboundMessage {
        OutboundMessage(
            envelope: MessageEnvelope(
                id: id, sender: "alice@example.org", recipients: recipients, receivedAt: 1_700_000_000,
                clientAddress: "192.0.2.1", clientName: "client.example", eightBitMIME: false, smtputf8: false),
            body: body, recipients: recipients)
    }

    @Test(arguments: [0, 1, 5_000, 3 << 20])
    func writesExactlyTheBodyAsIdEml(size: Int) async throws {
        try await withTemporaryDirectory { dir in
            let outbox = try OutboxTransport(directory: dir.appending("outbox"))
            let id = try #require(QueueID("0123456789ABC"))
            let body = SpoolFixtures.randomBytes(size, seed: UInt64(size))
            let outcomes = await outbox.deliver(Self.message(id: id, body: body, recipients: ["b@example.net", "c@example.net"])).outcomes

            let file = dir.appending("outbox/\(id).eml")
            #expect(outcomes == [
                "b@example.net": .delivered("250 2.0.0 written to \(file)"),
                "c@example.net": .delivered("250 2.0.0 written to \(file)"),
            ])
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: file))) == body)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appending("outbox")).sorted() == [".tmp", "\(id).eml"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appending("outbox/.tmp")) == [])
        }
    }

    @Test func failureDefersEveryRecipient() async throws {
        try await withTemporaryDirectory { dir in
            let outbox = try OutboxTransport(directory: dir.appending("outbox"))
            try FileManager.default.removeItem(atPath: dir.appending("outbox/.tmp"))  // staging vanished
            let id = try #require(QueueID("0123456789ABC"))
            let outcomes = await outbox.deliver(Self.message(id: id, body: [1, 2, 3], recipients: ["b@example.net"])).outcomes
            guard case .deferred(let reason)? = outcomes["b@example.net"] else {
                Issue.record("expected a deferral, got \(outcomes)")
                return
            }
            #expect(reason.hasPrefix("outbox: "))
            #expect(!FileManager.default.fileExists(atPath: dir.appending("outbox/\(id).eml")))
        }
    }

    /// A queue file written before ServerSession collapsed repeated RCPTs can still list a recipient twice;
    /// delivering it must not trap (it crashed relayd on every attempt) and reports each address once.
    @Test func duplicateRecipientsGetOneOutcomeEach() async throws {
        try await withTemporaryDirectory { dir in
            let outbox = try OutboxTransport(directory: dir.appending("outbox"))
            let id = try #require(QueueID("0123456789ABC"))
            let recipients = ["b@example.net", "c@example.net", "b@example.net"]
            let outcomes = await outbox.deliver(Self.message(id: id, body: [1, 2, 3], recipients: recipients)).outcomes
            let file = dir.appending("outbox/\(id).eml")
            #expect(outcomes == [
                "b@example.net": .delivered("250 2.0.0 written to \(file)"),
                "c@example.net": .delivered("250 2.0.0 written to \(file)"),
            ])
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: file))) == [1, 2, 3])

            try FileManager.default.removeItem(atPath: dir.appending("outbox/.tmp"))  // and on the failure path
            let deferred = await outbox.deliver(Self.message(id: id, body: [4], recipients: recipients)).outcomes
            #expect(Set(deferred.keys) == ["b@example.net", "c@example.net"])
            #expect(deferred.values.allSatisfy { if case .deferred = $0 { true } else { false } })
        }
    }

    @Test func redeliveryReplacesTheFile() async throws {
        try await withTemporaryDirectory { dir in
            let outbox = try OutboxTransport(directory: dir.appending("outbox"))
            let id = try #require(QueueID("0123456789ABC"))
            _ = await outbox.deliver(Self.message(id: id, body: Array("first".utf8), recipients: ["b@example.net"]))
            _ = await outbox.deliver(Self.message(id: id, body: Array("second".utf8), recipients: ["b@example.net"]))
            #expect(try String(contentsOfFile: dir.appending("outbox/\(id).eml"), encoding: .utf8) == "second")
        }
    }
}

import Delivery
import Foundation
import RelayTesting
import Spool
import Testing

@Suite("Queueing bounces")
struct BounceSenderTests {
    static let failure = BounceMessage.FailedRecipient(
        address: "bob@example.net", reply: "550 5.1.1 No such user", remoteHost: "mx.example.net", at: 1_700_000_000)

    @Test func bounceIsQueuedFromTheNullSenderToTheOriginalSender() async throws {
        try await withTemporarySpool { temp in
            let body = SpoolFixtures.body(subject: "Bounce me")
            let id = try await temp.spool.commitMessage(sender: "alice@example.org", recipients: ["bob@example.net"], body: body)
            let original = try await temp.spool.read(id)
            let sender = BounceSender(spool: temp.spool, reportingHost: "relay.example.org")

            let bounceID = try #require(try await sender.send(
                original: original.envelope, originalMessage: original.body, failed: [Self.failure], now: 1_700_000_100))

            let scanned = try await temp.spool.scan()
            #expect(scanned.quarantined.isEmpty)
            let bounce = try #require(scanned.messages.first { $0.id == bounceID })
            #expect(bounce.envelope.sender == "", "bounces come from the null sender")
            #expect(bounce.envelope.recipients == ["alice@example.org"])
            #expect(bounce.envelope.clientAddress == "127.0.0.1" && bounce.envelope.clientName == "localhost")
            #expect(!bounce.envelope.smtputf8 && !bounce.envelope.eightBitMIME)
            let queued = try await temp.spool.read(bounceID).body
            let expected = BounceMessage(
                reportingHost: "relay.example.org", original: original.envelope, originalMessage: original.body,
                failed: [Self.failure], now: 1_700_000_100).render()
            #expect(queued == expected, "the rendered DSN, byte for byte")
            #expect(String(decoding: queued, as: UTF8.self).contains("Subject: Bounce me"))
        }
    }

    @Test func nullSenderGetsNoBounceAndABounceIsNeverBounced() async throws {
        try await withTemporarySpool { temp in
            let sender = BounceSender(spool: temp.spool, reportingHost: "relay.example.org")
            let id = try await temp.spool.commitMessage(sender: "", recipients: ["bob@example.net"])
            let original = try await temp.spool.read(id)
            #expect(try await sender.send(original: original.envelope, originalMessage: original.body, failed: [Self.failure]) == nil)

            // A bounce that itself fails: its sender is null, so it ends there.
            let first = try await temp.spool.commitMessage(sender: "alice@example.org", recipients: ["bob@example.net"])
            let firstMessage = try await temp.spool.read(first)
            let bounceID = try #require(try await sender.send(
                original: firstMessage.envelope, originalMessage: firstMessage.body, failed: [Self.failure]))
            let bounce = try await temp.spool.read(bounceID)
            let undeliverable = BounceMessage.FailedRecipient(
                address: "alice@example.org", reply: "550 5.1.1 Gone", remoteHost: nil, at: 1_700_000_000)
            #expect(try await sender.send(original: bounce.envelope, originalMessage: bounce.body, failed: [undeliverable]) == nil)

            #expect(try await temp.spool.scan().messages.map(\.id) == [id, first, bounceID], "nothing else was queued")
        }
    }

    @Test func nothingFailedMeansNoBounce() async throws {
        try await withTemporarySpool { temp in
            let sender = BounceSender(spool: temp.spool, reportingHost: "relay.example.org")
            let id = try await temp.spool.commitMessage()
            let original = try await temp.spool.read(id)
            var state = DeliveryState(recipients: original.envelope.recipients)
            state.recipients[0].status = .delivered
            #expect(try await sender.send(original: original.envelope, originalMessage: original.body, state: state) == nil)
            #expect(try await temp.spool.scan().messages.count == 1)
        }
    }

    @Test func failuresAreTakenFromTheState() {
        var state = DeliveryState(recipients: ["bob@example.net", "carol@example.com", "dave@example.com"])
        state.recipients[0] = .init(address: "bob@example.net", status: .delivered, reply: "250 2.0.0 Ok", at: 10)
        state.recipients[1] = .init(address: "carol@example.com", status: .failed, reply: "550 5.1.1 No", at: 20)
        state.recipients[2] = .init(address: "dave@example.com", status: .failed, reply: nil, at: nil)
        let failures = BounceMessage.FailedRecipient.failures(in: state, remoteHost: "mx.example.com", now: 99)
        #expect(failures == [
            .init(address: "carol@example.com", reply: "550 5.1.1 No", remoteHost: "mx.example.com", at: 20),
            .init(address: "dave@example.com", reply: "no reply recorded", remoteHost: "mx.example.com", at: 99),
        ])
    }

    @Test func smtputf8IsCarriedOverAndEightBitDeclared() async throws {
        try await withTemporarySpool { temp in
            let receipt = temp.spool.beginReceipt(
                sender: "jürgen@example.org", recipients: ["用户@example.net"], clientAddress: "192.0.2.1",
                clientName: "client.example", eightBitMIME: true, smtputf8: true)
            try await receipt.append(Array("Subject: Grüße\r\n\r\nHallo\r\n".utf8))
            let id = try await receipt.commit()
            let original = try await temp.spool.read(id)
            let failure = BounceMessage.FailedRecipient(address: "用户@example.net", reply: "550 5.1.1 No", remoteHost: nil, at: 0)
            let sender = BounceSender(spool: temp.spool, reportingHost: "relay.example.org")
            let bounceID = try #require(try await sender.send(original: original.envelope, originalMessage: original.body, failed: [failure]))
            let bounce = try await temp.spool.read(bounceID).envelope
            #expect(bounce.sender == "" && bounce.recipients == ["jürgen@example.org"])
            #expect(bounce.smtputf8 && bounce.eightBitMIME)
        }
    }
}

import Foundation
import RelayTesting
import Spool
import Testing

@Suite("Spool receipts: commit, scan, read, abandon")
struct SpoolReceiptTests {
    @Test func commitPutsTheMessageInTheQueue() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let body = SpoolFixtures.body(subject: "commit")
            let receipt = spool.beginReceipt(
                sender: "alice@example.org", recipients: ["bob@example.net", "carol@example.com"],
                clientAddress: "192.0.2.7", clientName: "client.example", eightBitMIME: true, smtputf8: false)
            try await receipt.append(body.prefix(10))
            try await receipt.append(body.dropFirst(10))
            let id = try await receipt.commit()
            #expect(id == receipt.id)

            #expect(temp.names(in: .queue) == ["\(id).msg"])
            #expect(temp.names(in: .incoming) == [])

            let (messages, quarantined) = try await spool.scan()
            #expect(quarantined == [])
            let message = try #require(messages.first)
            #expect(messages.count == 1)
            #expect(message.envelope == receipt.envelope)
            #expect(message.envelope.sender == "alice@example.org")
            #expect(message.envelope.recipients == ["bob@example.net", "carol@example.com"])
            #expect(message.envelope.clientAddress == "192.0.2.7")
            #expect(message.envelope.eightBitMIME && !message.envelope.smtputf8)
            #expect(message.size == body.count)
            #expect(message.state == DeliveryState(recipients: ["bob@example.net", "carol@example.com"]))

            let (envelope, read) = try await spool.read(id)
            #expect(envelope == receipt.envelope)
            #expect(read == body)
        }
    }

    @Test func queueFileHasPreambleEnvelopeAndBody() async throws {
        try await withTemporarySpool { temp in
            let body = SpoolFixtures.body()
            let id = try await temp.spool.commitMessage(body: body)
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: temp.spool.layout.messagePath(id))))
            let preamble = "MRQ1 " + String(format: "%012d", body.count) + "\n"
            #expect(Array(bytes.prefix(18)) == Array(preamble.utf8))
            #expect(Array(bytes.suffix(body.count)) == body)
            let header = try MessageFileFormat.parseHeader(bytes, path: "test")
            #expect(header.envelope.id == id)
            #expect(header.bodyOffset + header.bodySize == bytes.count)
        }
    }

    @Test func commitAnnouncesNewMail() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage()
            var hints = temp.spool.newMail.makeAsyncIterator()
            #expect(await hints.next() == id)
        }
    }

    @Test func emptyBodyRoundTrips() async throws {
        try await withTemporarySpool { temp in
            let id = try await temp.spool.commitMessage(body: [])
            #expect(try await temp.spool.read(id).body == [])
        }
    }

    @Test func largeBodySpillsAndRoundTripsByteIdentically() async throws {
        try await withTemporarySpool { temp in
            let spool = temp.spool
            let body = SpoolFixtures.randomBytes(1 << 20 | 12_345, seed: 42)
            #expect(body.count > SpoolReceipt.spillThreshold)
            let receipt = spool.beginReceipt(
                sender: "", recipients: ["postmaster@example.net"], clientAddress: "::1", clientName: "big",
                eightBitMIME: true, smtputf8: true)
            var offset = 0
            while offset < body.count {
                let end = min(body.count, offset + 65_521)  // an odd chunk size, so spills fall mid-chunk
                try await receipt.append(body[offset..<end])
                offset = end
            }
            #expect(temp.names(in: .incoming) == ["\(receipt.id).msg"], "the body went to disk while streaming")
            let id = try await receipt.commit()
            #expect(temp.names(in: .incoming) == [])
            #expect(temp.names(in: .queue) == ["\(id).msg"])

            let (envelope, read) = try await spool.read(id)
            #expect(envelope == receipt.envelope)
            #expect(read.count == body.count)
            #expect(read == body)
            let scanned = try await spool.scan()
            #expect(scanned.messages.map(\.size) == [body.count])
            #expect(scanned.quarantined == [])
        }
    }

    @Test(arguments: [1_000, SpoolReceipt.spillThreshold * 2])
    func abandonLeavesNothing(size: Int) async throws {
        try await withTemporarySpool { temp in
            let receipt = temp.spool.beginReceipt(
                sender: "a@example.org", recipients: ["b@example.net"], clientAddress: "192.0.2.1",
                clientName: "x", eightBitMIME: false, smtputf8: false)
            try await receipt.append(SpoolFixtures.randomBytes(size, seed: 7))
            await receipt.abandon()
            #expect(temp.names(in: .incoming) == [])
            #expect(temp.names(in: .queue) == [])
            #expect(try await temp.spool.scan().messages.isEmpty)
        }
    }

    @Test func droppedReceiptRemovesItsSpillFile() async throws {
        try await withTemporarySpool { temp in
            do {
                let receipt = temp.spool.beginReceipt(
                    sender: "a@example.org", recipients: ["b@example.net"], clientAddress: "192.0.2.1",
                    clientName: "x", eightBitMIME: false, smtputf8: false)
                try await receipt.append(SpoolFixtures.randomBytes(SpoolReceipt.spillThreshold + 1, seed: 3))
                withExtendedLifetime(receipt) { #expect(temp.names(in: .incoming).count == 1) }
            }
            #expect(temp.names(in: .incoming) == [], "a session that died mid-DATA leaves no file behind")
        }
    }

    /// Postfix's default smtpd_recipient_limit is 1000, and max_recipients has no upper bound here.
    @Test func envelopeLargerThan64KiBStaysReadable() async throws {
        try await withTemporarySpool { temp in
            let recipients = (0..<1000).map { "recipient-\($0)@subdomain.of.a.rather-long-domain-name.example.com" }
            let id = try await temp.spool.commitMessage(recipients: recipients)
            // Known bug: the reader parses only the first 64 KiB, so a committed (250) message whose
            // envelope line is longer is reported corrupt and quarantined instead of being delivered.
            await withKnownIssue("scan/read parse only the first 64 KiB; a larger envelope is quarantined") {
                let (messages, quarantined) = try await temp.spool.scan()
                #expect(quarantined == [])
                #expect(messages.map(\.id) == [id])
                #expect(try await temp.spool.read(id).envelope.recipients == recipients)
            }
        }
    }
}

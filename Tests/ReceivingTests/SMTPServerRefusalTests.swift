#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Receiving
import RelayTesting
import Spool
import Testing

/// Messages the server must not accept, and failures it must not turn into 250.
@Suite("SMTPServer refusals")
struct SMTPServerRefusalTests {
    /// EHLO, MAIL, one RCPT per recipient and DATA, each checked; leaves the client ready for the body.
    static func startTransaction(_ client: SMTPTestClient, recipients: [String] = ["b@example.net"]) async throws {
        #expect(try await client.command("EHLO client.example").code == 250)
        #expect(try await client.command("MAIL FROM:<a@example.org>").code == 250)
        for recipient in recipients { #expect(try await client.command("RCPT TO:<\(recipient)>").code == 250) }
        #expect(try await client.command("DATA").code == 354)
    }

    @Test func oversizedMessageIsRefusedAndNotSpooled() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool, configuration: ServerHarness.configuration(maxMessageSize: 2_000))
            let client = try await harness.connect()
            try await Self.startTransaction(client)
            try await client.send("Subject: big\r\n\r\n" + String(repeating: "0123456789012345678901234567890123456789\r\n", count: 100) + ".\r\n")
            let reply = try await client.readReply()
            #expect(reply.code == 552)
            #expect(reply.text.hasPrefix("5.3.4 "))
            #expect(try await client.command("NOOP").code == 250, "the session goes on")
            #expect(temp.names(in: .queue) == [] && temp.names(in: .incoming) == [])
            #expect(await harness.stop())
        }
    }

    @Test(arguments: ["bare\nLF", "bare\rCR", "smuggled\n.\r\nMAIL FROM:<x@evil.example>"])
    func bareLineEndingsAreRefused(body: String) async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool)
            let client = try await harness.connect()
            try await Self.startTransaction(client)
            try await client.send("Subject: smuggling\r\n\r\n\(body)\r\n.\r\n")
            let reply = try await client.readReply()
            #expect(reply.code == 550)
            #expect(temp.names(in: .queue) == [], "nothing of a refused message is queued")
            #expect(try await client.command("QUIT").code == 221)
            #expect(await harness.stop())
        }
    }

    @Test func duplicateRecipientsAreStoredOnce() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool)
            let client = try await harness.connect()
            try await Self.startTransaction(client, recipients: ["b@example.net", "b@example.net"])
            try await client.send("Subject: twice\r\n\r\nx\r\n.\r\n")
            let id = try #require(try await client.readReply().queuedID)
            // The repeated RCPT was answered 250 (startTransaction checks it) and recorded once, so the
            // recipient gets one copy (a duplicate also made OutboxTransport trap on every attempt).
            let (envelope, body) = try await temp.spool.read(id)
            #expect(envelope.recipients == ["b@example.net"])
            #expect(String(decoding: body, as: UTF8.self).contains("\tfor <b@example.net>;"), "one recipient, named")
            #expect(try await temp.spool.scan().messages.first?.state.recipients.map(\.address) == ["b@example.net"])
            #expect(await harness.stop())
        }
    }
}

/// The 250-means-committed rule on a file system that is really full (a 1 MiB tmpfs).
@Suite("SMTPServer on a full disk", .enabled(if: TmpfsMount.isAvailable, "needs root and permission to mount a tmpfs"))
struct SMTPServerDiskFullTests {
    @Test func fullDiskGives452NotAnAcknowledgement() async throws {
        let disk = try TmpfsMount(bytes: 1 << 20)
        defer { disk.unmount() }
        let spool = try Spool(root: disk.path + "/spool", ioThreads: 1)
        let harness = try ServerHarness(spool: spool)
        let filler = try disk.fill(leaving: 8 * 1024)

        let client = try await harness.connect()
        try await SMTPServerRefusalTests.startTransaction(client)
        try await client.send("Subject: no room\r\n\r\n" + String(repeating: "y", count: 900) + "\r\n" + String(repeating: "z\r\n", count: 20_000) + ".\r\n")
        let reply = try await client.readReply()
        #expect(reply.code == 452)
        #expect(reply.text.hasPrefix("4.3.1 "))
        #expect(try await spool.scan().messages.isEmpty)

        truncate(filler, 0)  // space again: the same session can retry and succeed
        #expect(try await client.command("RSET").code == 250)
        #expect(try await client.command("MAIL FROM:<a@example.org>").code == 250)
        #expect(try await client.command("RCPT TO:<b@example.net>").code == 250)
        #expect(try await client.command("DATA").code == 354)
        try await client.send("Subject: room\r\n\r\nok\r\n.\r\n")
        let id = try #require(try await client.readReply().queuedID)
        #expect(try await spool.scan().messages.map(\.id) == [id])
        #expect(await harness.stop())
    }

    @Test func fullDiskWhileSpillingALargeMessageGives452() async throws {
        let disk = try TmpfsMount(bytes: 1 << 20)
        defer { disk.unmount() }
        let spool = try Spool(root: disk.path + "/spool", ioThreads: 1)
        let harness = try ServerHarness(spool: spool)
        try disk.fill(leaving: 64 * 1024)

        let client = try await harness.connect()
        try await SMTPServerRefusalTests.startTransaction(client)
        // More than SpoolReceipt.spillThreshold, so the body goes to disk while it streams in.
        let line = String(repeating: "x", count: 78) + "\r\n"
        try await client.send("Subject: large\r\n\r\n" + String(repeating: line, count: 5_000) + ".\r\n")
        // The receipt keeps the spill's failure, the rest of DATA is read and dropped, and the final dot
        // gets the temporary reply (before InboundConnection kept the failure, the session just ended).
        let reply = try await client.readReplyIfAny()
        #expect(reply?.code == 452)
        #expect(reply?.text.hasPrefix("4.3.1 ") == true)
        #expect(try await client.command("NOOP").code == 250, "the client stays in step")
        #expect(try await spool.scan().messages.isEmpty)
        // The failed spill leaves nothing queued, nothing in incoming/ and no open descriptor; its file is
        // back in the bin for the next message.
        let names = { (path: String) in ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
        #expect(names(spool.layout.queue) == [])
        #expect(names(spool.layout.incoming) == [])
        #expect(names(spool.layout.recycle).count == 1)
        #expect(openDescriptors(under: spool.layout.root) == [])
        #expect(await harness.stop())
    }
}

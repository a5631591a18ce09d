import Receiving
import RelayTesting
import Spool
import Testing

@Suite("SMTPServer over loopback")
struct SMTPServerTests {
    @Test func acceptedMessageIsSpooledWithReceivedHeaderAndUnstuffedBody() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool)
            let client = try await harness.connect()
            let ehlo = try await client.command("EHLO client.example")
            #expect(ehlo.code == 250)
            #expect(ehlo.lines.first == "test.example")
            #expect(ehlo.lines.contains("PIPELINING") && ehlo.lines.contains("SIZE 1048576"))
            #expect(try await client.command("MAIL FROM:<alice@example.org>").code == 250)
            #expect(try await client.command("RCPT TO:<bob@example.net>").code == 250)
            // The server dates the header right after it sends 354, so `before` is taken before DATA: taken
            // after reading the 354 it could fall in the next second.
            let before = now()
            #expect(try await client.command("DATA").code == 354)
            try await client.send("Subject: dots\r\n\r\n..leading dot\r\n...two dots\r\n.\r\n")
            let queued = try await client.readReply()
            let after = now()
            #expect(queued.code == 250)
            #expect(queued.text.hasPrefix("2.0.0 Ok: queued as "))
            let id = try #require(queued.queuedID)
            #expect(try await client.command("QUIT").code == 221)
            #expect(try await client.readEndOfStream())

            let (envelope, body) = try await temp.spool.read(id)
            #expect(envelope.sender == "alice@example.org")
            #expect(envelope.recipients == ["bob@example.net"])
            #expect(envelope.clientAddress == "127.0.0.1")
            #expect(envelope.clientName == "client.example")
            let text = String(decoding: body, as: UTF8.self)
            let header = "Received: from client.example ([127.0.0.1])\r\n"
                + "\tby test.example (MailRelay) with ESMTP id \(id)\r\n\tfor <bob@example.net>;\r\n"
            let message = "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n"
            let dates = Set((before...after).map { "\t" + ReceivedHeader.rfc5322Date($0) + "\r\n" })
            #expect(dates.contains { text == header + $0 + message }, "got \(text.debugDescription)")
            #expect(await harness.stop())
        }
    }

    @Test func pipelinedCommandsAreAnsweredInOrder() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool)
            let client = try await harness.connect()
            #expect(try await client.command("EHLO client.example").code == 250)
            try await client.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nNOOP\r\nDATA\r\n")
            var codes: [Int] = []
            for _ in 0..<5 { codes.append(try await client.readReply().code) }
            #expect(codes == [250, 250, 250, 250, 354])
            try await client.send("Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n")
            let queued = try await client.readReply()
            #expect(try await client.readReply().code == 221)
            let id = try #require(queued.queuedID)
            #expect(try await temp.spool.read(id).envelope.recipients == ["b@example.net", "c@example.net"])
            #expect(await harness.stop())
        }
    }

    @Test func wholeTransactionInOneWrite() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool)
            let client = try await SMTPTestClient.connect(port: harness.address.port)
            try await client.send("EHLO c.example\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"
                + "Subject: one write\r\n\r\nx\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.net>\r\nDATA\r\n"
                + "Subject: second\r\n\r\ny\r\n.\r\nQUIT\r\n")
            var replies: [SMTPTestReply] = []
            while let reply = try await client.readReplyIfAny() { replies.append(reply) }
            #expect(replies.map(\.code) == [220, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221])
            let ids = replies.compactMap(\.queuedID)
            #expect(ids.count == 2)
            let envelopes = try await ids.asyncMap { try await temp.spool.read($0).envelope }
            #expect(envelopes.map(\.sender) == ["", "a@example.org"])
            #expect(envelopes.map(\.recipients) == [["b@example.net"], ["d@example.net"]])
            #expect(await harness.stop())
        }
    }

    @Test func thirdConnectionOverMaxConnectionsGets421() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool, configuration: ServerHarness.configuration(maxConnections: 2))
            let first = try await harness.connect()
            let second = try await harness.connect()
            let third = try await SMTPTestClient.connect(port: harness.address.port)
            let refusal = try await third.readReply()
            #expect(refusal.code == 421)
            #expect(refusal.text.hasPrefix("4.7.0 "))
            #expect(try await third.readEndOfStream(), "the refused client is disconnected")

            #expect(try await first.command("QUIT").code == 221)
            first.close()
            #expect(await eventually { harness.server.activeSessions == 1 })
            let fourth = try await harness.connect()  // a freed slot is usable again
            #expect(try await fourth.command("NOOP").code == 250)
            #expect(try await second.command("NOOP").code == 250)
            #expect(await harness.stop())
        }
    }

    @Test func clientOutsideAllowedNetworksCannotRelay() async throws {
        try await withTemporarySpool { temp in
            let configuration = ServerHarness.configuration(allowed: ["10.0.0.0/8"])
            let harness = try ServerHarness(spool: temp.spool, configuration: configuration)
            let client = try await harness.connect()
            #expect(try await client.command("EHLO client.example").code == 250)
            #expect(try await client.command("MAIL FROM:<a@example.org>").code == 250)
            let denied = try await client.command("RCPT TO:<b@example.net>")
            #expect(denied.code == 554)
            #expect(denied.text.hasPrefix("5.7.1 "))
            #expect(try await client.command("DATA").code == 503)
            #expect(temp.names(in: .queue) == [])
            #expect(await harness.stop())
        }
    }

    @Test func cancellingTheServerEndsRunAndSessionsGet421() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool)
            let client = try await harness.connect()
            #expect(try await client.command("EHLO client.example").code == 250)
            #expect(await harness.stop())
            let goodbye = try await client.readReplyIfAny()
            #expect(goodbye?.code == 421)
            #expect(try await client.readEndOfStream())
        }
    }

    @Test func ipv6ClientIsRecorded() async throws {
        try await withTemporarySpool { temp in
            let harness = try ServerHarness(spool: temp.spool, configuration: ServerHarness.configuration(host: "::1"))
            let client = try await harness.connect()
            #expect(try await client.command("HELO v6.example").code == 250)
            #expect(try await client.command("MAIL FROM:<a@example.org>").code == 250)
            #expect(try await client.command("RCPT TO:<b@example.net>").code == 250)
            #expect(try await client.command("DATA").code == 354)
            try await client.send("Subject: v6\r\n\r\nhi\r\n.\r\n")
            let id = try #require(try await client.readReply().queuedID)
            let (envelope, body) = try await temp.spool.read(id)
            #expect(envelope.clientAddress == "::1")
            let header = String(decoding: body, as: UTF8.self)
            // RFC 5321 §4.1.3: an IPv6 address literal is tagged "IPv6:".
            #expect(header.hasPrefix("Received: from v6.example ([IPv6:::1])\r\n\tby test.example (MailRelay) with SMTP id \(id)\r\n"),
                    "HELO means SMTP; got \(header.debugDescription)")
            #expect(await harness.stop())
        }
    }
}

extension Sequence {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}

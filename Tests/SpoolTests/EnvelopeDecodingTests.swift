import Foundation
import RelayTesting
import Spool
import Testing

/// Envelope lines are decoded by a fast path (FastJSON) with JSONDecoder behind it: both must agree on
/// everything the spool writes.
@Suite("Envelope decoding")
struct EnvelopeDecodingTests {
    static func envelope(_ index: Int, sender: String, recipients: [String], receivedAt: Double) -> MessageEnvelope {
        MessageEnvelope(
            id: QueueID("0123456789" + String("ABCDEFGHJKMNPQRSTVWXYZ".map { $0 }[index % 22]) + "00")!,
            sender: sender, recipients: recipients, receivedAt: receivedAt, clientAddress: "2001:db8::\(index)",
            clientName: "client \"\(index)\"\t", eightBitMIME: index % 2 == 0, smtputf8: index % 3 == 0)
    }

    @Test func theFastPathDecodesWhatTheEncoderWrites() throws {
        let senders = ["", "alice@example.org", "ñandú@例え.jp", "quote\"back\\slash@x", "ctl\u{1}\u{1f}@x", "emoji😀@x"]
        var generator = SeededGenerator(seed: 42)
        for index in 0..<200 {
            let recipients = (0..<(index % 5 + 1)).map { "r\($0)+\(index)@example.net" }
            let receivedAt = Double(1_700_000_000) + Double(generator.next() % 1_000_000_000) / 1000
            let original = Self.envelope(index, sender: senders[index % senders.count], recipients: recipients, receivedAt: receivedAt)
            let line = try MessageFileFormat.envelopeLine(original)
            let file = MessageFileFormat.preamble(bodySize: 2) + line + Array("hi".utf8)
            let parsed = try MessageFileFormat.parseHeader(file, path: "test")
            #expect(parsed.envelope == original)
            #expect(try JSONDecoder().decode(MessageEnvelope.self, from: Data(line.dropLast())) == original)
        }
    }

    @Test func anEnvelopeWithMembersAddedLaterStillDecodes() throws {
        let original = Self.envelope(1, sender: "a@x", recipients: ["b@y"], receivedAt: 1_700_000_000.5)
        var line = try MessageFileFormat.envelopeLine(original)
        line.removeLast(2)  // "}\n"
        line += Array(#","addedLater":{"x":[1,2]}}"#.utf8) + [10]
        let file = MessageFileFormat.preamble(bodySize: 0) + line
        #expect(try MessageFileFormat.parseHeader(file, path: "test").envelope == original)
    }

    @Test func aBrokenEnvelopeIsCorruptWithJSONDecodersReason() throws {
        let file = Array("MRQ1 000000000000\n{\"id\":\"0123456789ABC\"}\n".utf8)
        #expect {
            try MessageFileFormat.parseHeader(file, path: "p")
        } throws: { error in
            guard case SpoolError.corrupt(let path, let reason) = error else { return false }
            return path == "p" && reason.hasPrefix("envelope does not decode")
        }
    }
}

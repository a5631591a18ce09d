// libFuzzer target `envelope`: what the spool reads back from disk — a queue file's header (preamble and envelope
// line, MessageFileFormat.parseHeader) and a `.state` file (DeliveryState.decode). Built by SwiftPM with
// -enable-testing (see Package.swift and scripts/fuzz) so it can compare the two decoders behind each.
//
// Invariants, beyond "never crashes":
// - parsing is deterministic, and a header that parses re-encodes to one that parses to the same envelope;
// - the fast path (FastJSON's JSONParser) and JSONDecoder, which reads whatever the fast path declines, agree on
//   every envelope and state the fast path accepts: which decoder reads a file must not change what it says;
// - a state that decodes, written as relayd writes it (JSONEncoder), decodes to the same state;
// - any envelope built from the input (arbitrary strings and flags) survives writing and reading unchanged.
import FastJSON
import FoundationEssentials
import FuzzDriver
@testable import Spool

private func header(_ bytes: [UInt8]) -> Result<(MessageEnvelope, Int, Int), SpoolError> {
    do throws(SpoolError) {
        let (envelope, offset, size) = try MessageFileFormat.parseHeader(bytes, path: "fuzz.msg")
        return .success((envelope, offset, size))
    } catch {
        return .failure(error)
    }
}

private func sameHeader(_ a: Result<(MessageEnvelope, Int, Int), SpoolError>, _ b: Result<(MessageEnvelope, Int, Int), SpoolError>) -> Bool {
    switch (a, b) {
    case let (.success(x), .success(y)): x.0 == y.0 && x.1 == y.1 && x.2 == y.2
    case let (.failure(x), .failure(y)): "\(x)" == "\(y)"
    default: false
    }
}

/// Writes `envelope` as a queue file header and reads it back.
private func roundTrip(_ envelope: MessageEnvelope, bodySize: Int) {
    let line: [UInt8]
    do { line = try MessageFileFormat.envelopeLine(envelope) } catch {
        check(false, "an envelope with finite values does not encode: \(error)")
        return
    }
    let file = MessageFileFormat.preamble(bodySize: bodySize) + line
    guard case .success(let (again, offset, size)) = header(file) else {
        check(false, "a written header does not parse: \(String(decoding: file, as: UTF8.self))")
        return
    }
    check(again == envelope, "envelope changed on the way through the file: \(envelope) -> \(again)")
    check(offset == file.count && size == bodySize, "body offset \(offset) / size \(size) for a header of \(file.count) bytes, body \(bodySize)")
}

/// An envelope whose every field comes from the input: a valid queue id, any strings, any finite time.
private func envelope(from input: UnsafeBufferPointer<UInt8>) -> MessageEnvelope {
    var cursor = InputCursor(input)
    let id = String(decoding: (0..<13).map { _ in QueueID.alphabet[Int(cursor.byte()) % QueueID.alphabet.count] }, as: UTF8.self)
    var bits: UInt64 = 0
    for _ in 0..<8 { bits = bits << 8 | UInt64(cursor.byte()) }
    let receivedAt = Double(bitPattern: bits).isFinite ? Double(bitPattern: bits) : Double(bits % 4_000_000_000)
    let flags = cursor.byte()
    // The rest, split at NUL bytes: sender, client address, client name, then recipients. Invalid UTF-8 becomes
    // U+FFFD, as it would in a String.
    let fields = cursor.rest().split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    func field(_ i: Int) -> String { i < fields.count ? fields[i] : "" }
    return MessageEnvelope(
        id: QueueID(id)!, sender: field(0), recipients: Array(fields.dropFirst(3)), receivedAt: receivedAt,
        clientAddress: field(1), clientName: field(2), eightBitMIME: flags & 1 != 0, smtputf8: flags & 2 != 0)
}

private func fuzzOne(_ input: UnsafeBufferPointer<UInt8>) -> CInt {
    guard input.count <= 256 * 1024 else { return -1 }
    let bytes = Array(input)

    // The input as a queue file.
    let parsed = header(bytes)
    check(sameHeader(parsed, header(bytes)), "parsing the same header twice gave different results")
    if case .success(let (envelope, offset, size)) = parsed {
        check(offset > MessageFileFormat.preambleLength && offset <= bytes.count, "body offset \(offset) outside the header")
        check(size >= 0, "negative body size \(size)")
        roundTrip(envelope, bodySize: size)
    }

    // The input (up to its first newline) as an envelope line, and whole as a state file: both decoders agree.
    let line = bytes.prefix { $0 != 10 }
    if let value = try? JSONParser.parse(line), let fast = try? MessageEnvelope(exactly: value) {
        let slow = try? JSONDecoder().decode(MessageEnvelope.self, from: Data(line))
        check(slow == fast, "JSONParser reads the envelope as \(fast), JSONDecoder as \(String(describing: slow))")
    }
    if let value = try? JSONParser.parse(bytes), let fast = try? DeliveryState(knownMembersOf: value) {
        let slow = try? JSONDecoder().decode(DeliveryState.self, from: Data(bytes))
        check(slow == fast, "JSONParser reads the state as \(fast), JSONDecoder as \(String(describing: slow))")
    }
    if let state = try? DeliveryState.decode(json: bytes), state.nextAttemptAt.isFinite {
        do {
            let written = Array(try JSONEncoder().encode(state))
            let again = try DeliveryState.decode(json: written)
            check(again == state, "state changed on the way through the file: \(state) -> \(again)")
        } catch {
            check(false, "a decoded state does not survive writing and reading: \(error)")
        }
    }

    // The input as the fields of an envelope.
    roundTrip(envelope(from: input), bodySize: input.count)
    return 0
}

@main
struct EnvelopeFuzzerMain {
    static func main() { runFuzzTarget(fuzzOne) }
}

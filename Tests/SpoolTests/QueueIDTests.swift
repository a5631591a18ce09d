import Foundation
@testable import Spool
import Testing

@Suite("QueueID")
struct QueueIDTests {
    static let crockford = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    @Test func encodesThirteenCrockfordCharacters() {
        for (ms, seq) in [(UInt64(0), UInt16(0)), (1_700_000_000_123, 4095), ((1 << 50) - 1, 32767)] {
            let id = QueueID(milliseconds: ms, sequence: seq)
            #expect(id.rawValue.count == 13)
            #expect(id.rawValue.allSatisfy { Self.crockford.contains($0) }, "\(id)")
        }
        #expect(QueueID(milliseconds: 0, sequence: 0).rawValue == "0000000000000")
        #expect(QueueID(milliseconds: (1 << 50) - 1, sequence: 32767).rawValue == "ZZZZZZZZZZZZZ")
        #expect(QueueID(milliseconds: 32, sequence: 33).rawValue == "0000000010011")
    }

    @Test(arguments: [0, 1, 31, 32, 1_000, 1_700_000_000_123, 4_102_444_800_000, (1 << 50) - 1] as [UInt64])
    func millisecondsRoundTrip(ms: UInt64) {
        for sequence: UInt16 in [0, 1, 1234, 32767] {
            let id = QueueID(milliseconds: ms, sequence: sequence)
            #expect(id.milliseconds == ms)
            #expect(QueueID(id.rawValue) == id, "the text parses back to the same id")
        }
    }

    @Test func sortsByTimeBeforeSequence() {
        let earlier = QueueID(milliseconds: 1_700_000_000_000, sequence: 32767)
        let later = QueueID(milliseconds: 1_700_000_000_001, sequence: 0)
        #expect(earlier < later)
        #expect(earlier.rawValue < later.rawValue, "file names sort the same way as ids")
        let sameMillisecond = (0..<50).map { QueueID(milliseconds: 5_000, sequence: UInt16($0 * 600)) }
        #expect(sameMillisecond == sameMillisecond.sorted())

        let times: [UInt64] = [1, 31, 32, 33, 1023, 1024, 99_999, 1_700_000_000_000, 1_700_000_000_999]
        let ids = times.map { QueueID(milliseconds: $0, sequence: UInt16($0 % 32768)) }
        #expect(ids.map(\.rawValue) == ids.map(\.rawValue).sorted())
    }

    @Test(arguments: [
        "", "0123456789AB", "0123456789ABCD", "0123456789abc", "0123456789ABI", "0123456789ABL",
        "0123456789ABO", "0123456789ABU", "../../etc/pas", "0123456789AB/", "/tmp/x.msg123", "0123456789AB.",
        " 123456789ABC", "0123456789AB\n", "0123456789ABÉ", "012345678\u{7F}ABC",
    ])
    func rejectsInvalidText(text: String) {
        #expect(QueueID(text) == nil)
    }

    @Test func acceptsValidText() {
        #expect(QueueID("01JBZ8X4Q2M7T")?.rawValue == "01JBZ8X4Q2M7T")
        #expect(QueueID("01JBZ8X4Q2M7T"[...]) != nil, "substrings work too")
    }

    @Test func codableRoundTripAndRejection() throws {
        let id = QueueID(milliseconds: 1_700_000_000_123, sequence: 7)
        let data = try JSONEncoder().encode([id])
        #expect(String(decoding: data, as: UTF8.self) == "[\"\(id.rawValue)\"]")
        #expect(try JSONDecoder().decode([QueueID].self, from: data) == [id])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([QueueID].self, from: Data("[\"../../etc/passwd\"]".utf8))
        }
    }
}

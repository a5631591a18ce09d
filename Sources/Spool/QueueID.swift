#if canImport(Glibc)
import Glibc
#endif
import Threading

/// A message's queue id: 13 characters of Crockford base32, time-sortable and unique within a spool.
///
/// The first 10 characters are milliseconds since the Unix epoch, the last 3 a sequence that starts at a
/// random point each run, so ids sort by arrival and two relayd runs in the same millisecond do not collide.
public struct QueueID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let rawValue: String

    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// Accepts exactly 13 characters from the alphabet; anything else (like a path) is not a queue id.
    public init?(_ text: some StringProtocol) {
        guard text.utf8.count == 13, text.utf8.allSatisfy(QueueID.isInAlphabet) else { return nil }
        rawValue = String(text)
    }

    /// The same for a String, without the generic path: other modules call this for every id they read
    /// (a listing of a hundred thousand), and a generic from another module runs unspecialized.
    public init?(_ text: String) {
        guard text.utf8.count == 13, text.utf8.allSatisfy(QueueID.isInAlphabet) else { return nil }
        rawValue = text
    }

    /// Whether `byte` is one of `alphabet`'s characters (a switch: a listing checks a million of them).
    static func isInAlphabet(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "H"), UInt8(ascii: "J"), UInt8(ascii: "K"),
             UInt8(ascii: "M"), UInt8(ascii: "N"), UInt8(ascii: "P")...UInt8(ascii: "T"), UInt8(ascii: "V")...UInt8(ascii: "Z"):
            true
        default:
            false
        }
    }

    init(milliseconds: UInt64, sequence: UInt16) {
        var chars = [UInt8](repeating: 0, count: 13)
        var value = milliseconds
        for i in stride(from: 9, through: 0, by: -1) {
            chars[i] = QueueID.alphabet[Int(value & 31)]
            value >>= 5
        }
        var seq = sequence
        for i in stride(from: 12, through: 10, by: -1) {
            chars[i] = QueueID.alphabet[Int(seq & 31)]
            seq >>= 5
        }
        rawValue = String(decoding: chars, as: UTF8.self)
    }

    /// The arrival time encoded in the id, in milliseconds since the epoch.
    public var milliseconds: UInt64 {
        rawValue.utf8.prefix(10).reduce(0) { $0 << 5 | UInt64(QueueID.alphabet.firstIndex(of: $1)!) }
    }

    public var description: String { rawValue }
    public static func < (a: QueueID, b: QueueID) -> Bool { a.rawValue < b.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = QueueID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a queue id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Hands out strictly increasing queue ids, even when the clock stalls or steps back.
public final class QueueIDGenerator: Sendable {
    private struct Last { var milliseconds: UInt64; var sequence: UInt16 }
    private let last: Locked<Last>

    public init() {
        last = Locked(Last(milliseconds: 0, sequence: UInt16.random(in: 0..<4096)))
    }

    public func next() -> QueueID {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let ms = UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
        return last.withLock { last in
            if ms > last.milliseconds {
                last.milliseconds = ms
            } else if last.sequence >= 32767 {
                last.milliseconds += 1  // borrow from the future rather than repeat an id
                last.sequence = 0
            } else {
                last.sequence += 1
            }
            return QueueID(milliseconds: last.milliseconds, sequence: last.sequence)
        }
    }
}

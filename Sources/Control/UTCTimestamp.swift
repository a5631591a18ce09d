#if canImport(Glibc)
import Glibc
#endif

/// The protocol's time format: ISO 8601 in UTC to the second, `2024-05-01T12:00:00Z`.
///
/// Written by hand with gmtime_r/timegm: a listing formats a few hundred thousand of them, and a fixed
/// format needs no formatter's generality.
public enum UTCTimestamp {
    /// `epochSeconds` as `YYYY-MM-DDTHH:MM:SSZ`.
    public static func format(_ epochSeconds: Int) -> String {
        withText(epochSeconds) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with `epochSeconds` as `YYYY-MM-DDTHH:MM:SSZ` in bytes on the stack: a listing writes
    /// a few hundred thousand of them, each better without a string of its own.
    public static func withText<R>(_ epochSeconds: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var time = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var text: (UInt64, UInt64, UInt32) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &text) { raw in
            let out = raw.bindMemory(to: UInt8.self)
            var at = 0
            func put(_ value: Int32, digits: Int, then separator: UInt8?) {
                var rest = Int(max(0, value))
                for i in stride(from: digits - 1, through: 0, by: -1) {
                    out[at + i] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                at += digits
                if let separator {
                    out[at] = separator
                    at += 1
                }
            }
            put(parts.tm_year + 1900, digits: 4, then: UInt8(ascii: "-"))
            put(parts.tm_mon + 1, digits: 2, then: UInt8(ascii: "-"))
            put(parts.tm_mday, digits: 2, then: UInt8(ascii: "T"))
            put(parts.tm_hour, digits: 2, then: UInt8(ascii: ":"))
            put(parts.tm_min, digits: 2, then: UInt8(ascii: ":"))
            put(parts.tm_sec, digits: 2, then: UInt8(ascii: "Z"))
            return body(UnsafeBufferPointer(rebasing: out[..<at]))
        }
    }

    /// Seconds since the epoch for a `YYYY-MM-DDTHH:MM:SSZ` text (fractional seconds are accepted and
    /// dropped); nil for anything else.
    public static func parse(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let year = number(bytes[0..<4]), let month = number(bytes[5..<7]), let day = number(bytes[8..<10]),
              let hour = number(bytes[11..<13]), let minute = number(bytes[14..<16]), let second = number(bytes[17..<19])
        else { return nil }
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), number(bytes[20..<bytes.count - 1]) != nil else { return nil }
        }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Int(timegm(&parts))
    }

    private static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

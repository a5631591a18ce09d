/// Base64 (RFC 4648 §4), strict: SASL's padded form for AUTH (RFC 4954) and the unpadded form of passlib-style
/// password hash strings.
///
/// Strict so that one text means one byte string: nothing outside the alphabet, no whitespace, padding only
/// where it belongs, and the unused bits of the last symbol zero. A damaged hash is then refused when the users
/// file loads, and a client's odd encoding gets 501 instead of being guessed at.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The base64 text of `bytes`; `padded: false` leaves out the trailing "=".
    public static func encode(_ bytes: some Collection<UInt8>, padded: Bool = true) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var index = 0
        while index < input.count {
            let count = min(3, input.count - index)
            var group: UInt32 = 0
            for k in 0..<3 { group = group << 8 | (k < count ? UInt32(input[index + k]) : 0) }
            for k in 0...count { out.append(alphabet[Int(group >> UInt32(18 - 6 * k) & 0x3F)]) }
            if padded { out.append(contentsOf: repeatElement(UInt8(ascii: "="), count: 3 - count)) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes `text` encodes, or nil when it is not strict base64 of the form asked for: a symbol outside
    /// the alphabet, padding missing (`padded`) or present (`!padded`) or misplaced, an impossible length, or
    /// non-zero unused bits.
    public static func decode(_ text: some Collection<UInt8>, padded: Bool = true) -> [UInt8]? {
        var symbols = Array(text)
        if padded {
            guard symbols.count % 4 == 0 else { return nil }
            // At most two, and only at the very end; an "=" anywhere else fails the alphabet check below.
            for _ in 0..<2 where symbols.last == UInt8(ascii: "=") { symbols.removeLast() }
        }
        guard symbols.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(symbols.count * 3 / 4)
        var index = 0
        while index < symbols.count {
            let count = min(4, symbols.count - index)
            var group: UInt32 = 0
            for k in 0..<4 {
                var value: UInt32 = 0
                if k < count {
                    guard let sextet = sextet(symbols[index + k]) else { return nil }
                    value = sextet
                }
                group = group << 6 | value
            }
            let byteCount = count - 1
            // The bits past the last whole byte must be zero, or two texts would decode to the same bytes.
            if count < 4, group & ((1 << UInt32(24 - 8 * byteCount)) - 1) != 0 { return nil }
            for k in 0..<byteCount { out.append(UInt8(truncatingIfNeeded: group >> UInt32(16 - 8 * k))) }
            index += 4
        }
        return out
    }

    private static func sextet(_ symbol: UInt8) -> UInt32? {
        switch symbol {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(symbol - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(symbol - UInt8(ascii: "a")) + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(symbol - UInt8(ascii: "0")) + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}

/// Standard base64 (RFC 4648 §4) without padding, as in passlib-style hash strings. Decoding is strict so a
/// damaged hash is reported when the users file is loaded, not discovered as logins that never succeed.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            let sextets = min(4, (bytes.count - index) + 1)
            for k in 0..<sextets {
                out.append(alphabet[Int(group >> UInt32(18 - 6 * k) & 0x3F)])
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for padding, characters outside the alphabet, an impossible length (4k+1) or non-zero unused
    /// trailing bits.
    static func decode(_ text: Substring) -> [UInt8]? {
        let symbols = Array(text.utf8)
        if symbols.count % 4 == 1 { return nil }
        var values: [UInt32] = []
        values.reserveCapacity(symbols.count)
        for symbol in symbols {
            guard let value = sextet(symbol) else { return nil }
            values.append(value)
        }
        var out: [UInt8] = []
        out.reserveCapacity(symbols.count * 3 / 4)
        var index = 0
        while index < values.count {
            let count = min(4, values.count - index)
            var group: UInt32 = 0
            for k in 0..<4 { group = group << 6 | (k < count ? values[index + k] : 0) }
            let byteCount = count - 1
            // The bits past the last whole byte must be zero, or two texts would decode to the same bytes.
            let unusedBits = UInt32(24 - 8 * byteCount)
            if count < 4, group & ((1 << unusedBits) - 1) != 0 { return nil }
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

import FoundationEssentials

/// The original message's header section as a bounce returns it (part 3): only the headers, never the body,
/// so a bounce neither re-sends a large message nor spreads content the sender may regret.
struct ReturnedHeaders {
    /// The most a bounce carries of the original headers. Real header sections are a few KiB; one larger
    /// than this is cut at the last whole line before the limit and the notification says so.
    static let limit = 64 * 1024

    /// Whole lines, each ending in CRLF (or all of it base64-encoded, see `encoding`).
    let bytes: [UInt8]
    /// Whether the headers were longer than `limit`.
    let truncated: Bool
    /// Whether any octet is outside ASCII (raw UTF-8 in an SMTPUTF8 message, or legacy 8-bit text).
    let hasNonASCII: Bool
    /// Whether the bytes may go into a MIME part as they are: CRLF line ends only, no NUL, no line over
    /// 998 octets. Receiving refuses bare CR, LF and NUL, but accepts long lines unchanged.
    let fitsLines: Bool

    init(message: [UInt8]) {
        var end = message.count
        var index = 0
        while index + 1 < message.count {
            if message[index] == 13, message[index + 1] == 10 {
                if index == 0 { end = 0; break }  // no header section at all
                if index + 3 < message.count, message[index + 2] == 13, message[index + 3] == 10 { end = index + 2; break }
            }
            index += 1
        }
        var section = Array(message[..<end])
        truncated = section.count > ReturnedHeaders.limit
        if truncated {
            let window = section[..<ReturnedHeaders.limit]
            var cut = ReturnedHeaders.limit
            while cut >= 2, !(window[cut - 2] == 13 && window[cut - 1] == 10) { cut -= 1 }
            section = Array(section[..<(cut >= 2 ? cut : ReturnedHeaders.limit)])
        }
        if let last = section.last, last != 10 || section.dropLast().last != 13 { section += [13, 10] }
        bytes = section
        hasNonASCII = section.contains { $0 >= 0x80 }
        fitsLines = ReturnedHeaders.linesFit(section)
    }

    private static func linesFit(_ bytes: [UInt8]) -> Bool {
        var length = 0
        for (i, byte) in bytes.enumerated() {
            switch byte {
            case 0: return false
            case 13: if i + 1 >= bytes.count || bytes[i + 1] != 10 { return false }
            case 10:
                if i == 0 || bytes[i - 1] != 13 { return false }
                length = 0
                continue
            default: break
            }
            length += 1
            if length > 999 { return false }  // 998 octets plus the CR
        }
        return true
    }

    /// The part's transfer encoding: as is when 7bit-clean (or 8bit in an SMTPUTF8 bounce), else base64,
    /// which keeps the bounce 7bit-clean and every line short whatever the headers hold.
    func encoding(eightBitAllowed: Bool) -> (name: String, body: [UInt8]) {
        if fitsLines && !hasNonASCII { return ("7bit", bytes) }
        if fitsLines && eightBitAllowed { return ("8bit", bytes) }
        let encoded = Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return ("base64", Array(encoded.utf8) + [13, 10])
    }
}

import SMTPProtocol
import Testing

/// Seeded random messages for the round-trip properties; every run sees the same inputs.
private struct MessageGenerator {
    var rng: SplitMix64

    /// A random octet that is neither CR, LF nor NUL, biased towards dots, spaces and 8-bit octets.
    mutating func textOctet() -> UInt8 {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0, 1: return UInt8(ascii: ".")
        case 2: return UInt8(ascii: " ")
        case 3: return UInt8.random(in: 0x80...0xFF, using: &rng)
        case 4: return [1, 9, 11, 12, 27, 31, 127].randomElement(using: &rng)!
        default: return UInt8.random(in: 0x21...0x7E, using: &rng)
        }
    }

    /// A message with CRLF line ends only (no bare CR/LF, no NUL), lines of at most 300 octets.
    mutating func crlfMessage() -> [UInt8] {
        var message: [UInt8] = []
        let lines = Int.random(in: 0...12, using: &rng)
        for index in 0..<lines {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: message += bytes(".")  // the lines that would end or confuse DATA if not stuffed
            case 1: message += bytes("..")
            case 2: message += [UInt8(ascii: ".")] + (0..<Int.random(in: 0...40, using: &rng)).map { _ in textOctet() }
            default: message += (0..<Int.random(in: 0...300, using: &rng)).map { _ in textOctet() }
            }
            let last = index == lines - 1
            if !last || Bool.random(using: &rng) { message += [13, 10] }  // the last line may lack its CRLF
        }
        return message
    }

    /// Any octets at all, rich in CR, LF, dots and NUL: what a client of DotStuffer might hand it.
    mutating func arbitraryMessage() -> [UInt8] {
        (0..<Int.random(in: 0...200, using: &rng)).map { _ in
            [13, 10, 0, UInt8(ascii: "."), UInt8(ascii: "a"), 0xC3].randomElement(using: &rng)!
        }
    }
}

/// `x` with every CRLF, stray CR and stray LF made a CRLF, and a CRLF added to an unterminated last line.
private func normalizedLines(_ x: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var index = 0
    while index < x.count {
        switch x[index] {
        case 13:
            out += [13, 10]
            if index + 1 < x.count, x[index + 1] == 10 { index += 1 }
        case 10: out += [13, 10]
        default: out.append(x[index])
        }
        index += 1
    }
    if !out.isEmpty, out.suffix(2) != [13, 10] { out += [13, 10] }
    return out
}

@Suite("DataDecoder ∘ DotStuffer properties")
struct DataDecoderPropertyTests {
    @Test("SplitMix64 matches the reference sequence for seed 0")
    func splitMixReference() {
        var rng = SplitMix64(seed: 0)
        #expect(rng.next() == 0xE220_A839_7B1D_CDAF)
        #expect(rng.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    /// Invariant. Let x contain no CR or LF outside CRLF pairs and no NUL, with lines of at most 998 octets, and
    /// let norm(x) = x when x is empty or ends in CRLF, else x + CRLF. DotStuffer writes norm(x) with a "." put
    /// before every line starting with ".", then `finish` adds only ".\r\n" (the CRLF ending norm(x) is the first
    /// half of CRLF.CRLF; for an empty x the wire is just ".\r\n"). The decoder removes the stuffing and stops
    /// after the terminator, returning everything before the final "." line. Hence, for every chunking on either
    /// side: output == norm(x); consumed == the stuffed length (a pipelined command after it stays unread);
    /// size == norm(x).count; and no finding is set.
    @Test("decode(stuff(x) + finish) == x ending in CRLF, for any chunking", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func roundTrip(seed: UInt64) {
        var generator = MessageGenerator(rng: SplitMix64(seed: seed))
        for _ in 0..<200 {
            let x = generator.crlfMessage()
            let expected = x.isEmpty || x.suffix(2) == [13, 10] ? x : x + [13, 10]
            let wire = stuff(x, cuts: randomCuts(count: x.count, maxChunk: 17, using: &generator.rng))
            let input = wire + bytes("QUIT\r\n")
            let result = decode(input, cuts: randomCuts(count: input.count, maxChunk: 23, using: &generator.rng))
            #expect(result.finished)
            #expect(result.output == expected)
            #expect(result.consumed == wire.count)
            var clean = noFindings
            clean.size = expected.count
            #expect(result.findings == clean)
        }
    }

    /// Whatever a caller hands DotStuffer (stray CR, stray LF, lone dots, NUL), the wire form decodes without a
    /// single bare CR or LF, ends exactly at the stuffer's terminator, and yields the input with its line ends
    /// normalised to CRLF. This is why the outbound side cannot be used to smuggle a message.
    @Test("DotStuffer output never smuggles, whatever the input", arguments: [11, 12, 13] as [UInt64])
    func stufferNeutralisesLineEnds(seed: UInt64) {
        var generator = MessageGenerator(rng: SplitMix64(seed: seed))
        for _ in 0..<300 {
            let x = generator.arbitraryMessage()
            let wire = stuff(x, cuts: randomCuts(count: x.count, maxChunk: 5, using: &generator.rng))
            let result = decode(wire + bytes(".\r\n"))
            #expect(result.finished)
            #expect(result.consumed == wire.count)
            #expect(result.output == normalizedLines(x))
            #expect(!result.findings.sawBareCR && !result.findings.sawBareLF)
            #expect(result.findings.sawNUL == x.contains(0))
        }
    }

    /// The decoder's output and findings depend only on the bytes, never on how the network split them.
    @Test("byte-by-byte and random chunkings agree with one-shot decoding", arguments: [21, 22, 23] as [UInt64])
    func chunkingInvariance(seed: UInt64) {
        var generator = MessageGenerator(rng: SplitMix64(seed: seed))
        for _ in 0..<60 {
            // Raw octets rich in CR, LF, dots and NUL, then a proper end, then a pipelined command.
            var input = generator.arbitraryMessage()
            if Bool.random(using: &generator.rng) { input += bytes("\r\n.\r\nQUIT\r\n") }
            let whole = decode(input, sizeLimit: 50)
            for cuts in chunkings(count: input.count, seed: seed, random: 8) {
                #expect(decode(input, cuts: cuts, sizeLimit: 50) == whole)
            }
        }
    }
}

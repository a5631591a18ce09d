import SMTPProtocol

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny seeded generator so every "random" test is reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The UTF-8 bytes of a string literal, so tables can be written as text ("\r\n" and all).
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Cut points that split `0..<count` into chunks of 1...maxChunk bytes; the last chunk ends at `count`.
func randomCuts(count: Int, maxChunk: Int, using rng: inout SplitMix64) -> [Int] {
    var cuts: [Int] = []
    var position = 0
    while position < count {
        position = min(count, position + Int.random(in: 1...maxChunk, using: &rng))
        cuts.append(position)
    }
    return cuts
}

/// Every chunking the tests compare: whole, byte by byte, and a few seeded random ones.
func chunkings(count: Int, seed: UInt64, random: Int = 20) -> [[Int]] {
    var rng = SplitMix64(seed: seed)
    var result: [[Int]] = [[count], Array(stride(from: 1, through: count, by: 1))]
    for maxChunk in [2, 3, 7, 64] {
        for _ in 0..<(random / 4) { result.append(randomCuts(count: count, maxChunk: maxChunk, using: &rng)) }
    }
    return result
}

/// `DataDecoder.Findings` has no public initialiser; a fresh decoder's findings are the clean value.
let noFindings = DataDecoder(sizeLimit: 0).findings

/// What a `DataDecoder` produced for one input fed in chunks.
struct Decoded: Equatable {
    var output: [UInt8] = []
    /// Bytes of the input the decoder used (up to and including the terminator).
    var consumed = 0
    var finished = false
    var findings = noFindings
    /// False if a call that did not finish the message left bytes of its chunk unused.
    var usedWholeChunksUntilEnd = true
    /// The largest the output ever was after a chunk.
    var maxOutputCount = 0
}

/// Feeds `input` to a fresh decoder in the chunks ending at `cuts`, stopping once the message is finished.
func decode(_ input: [UInt8], cuts: [Int]? = nil, sizeLimit: Int = 1 << 20) -> Decoded {
    var decoder = DataDecoder(sizeLimit: sizeLimit)
    var result = Decoded()
    var start = 0
    for end in cuts ?? [input.count] {
        let used = decoder.decode(input[start..<end], into: &result.output)
        result.consumed += used
        result.maxOutputCount = max(result.maxOutputCount, result.output.count)
        if decoder.isFinished { break }
        if used != end - start { result.usedWholeChunksUntilEnd = false }
        start = end
    }
    result.finished = decoder.isFinished
    result.findings = decoder.findings
    return result
}

/// Stuffs `input` in the chunks ending at `cuts` and finishes it.
func stuff(_ input: [UInt8], cuts: [Int]? = nil) -> [UInt8] {
    var stuffer = DotStuffer()
    var output: [UInt8] = []
    var start = 0
    for end in cuts ?? [input.count] {
        stuffer.stuff(input[start..<end], into: &output)
        start = end
    }
    stuffer.finish(into: &output)
    return output
}

// libFuzzer target `data-decoder`: DataDecoder and DotStuffer, compiled with Sources/SMTPProtocol.
//
// Invariants:
// (a) for x made of CRLF-terminated lines (the input split on LF, CRs dropped), decoding stuff(x) + ".\r\n"
//     gives back exactly x, finishes exactly at the end, and reports no bare CR/LF; for any input, decoding
//     stuff(input) gives the input with every CR, LF and CRLF turned into one CRLF;
// (b) arbitrary input fed in input-chosen chunks gives the same output, findings, consumed count and end as
//     feeding it whole (also with a small size limit);
// (c) the decoder stops right after the first line that is "." alone (CRLF.CRLF, or ".\r\n" first): whatever
//     follows is left for the next command, so no input yields two messages. Output and findings match an
//     independent model of RFC 5321 §4.5.2 (dot removed at line starts, bare CR/LF and NUL flagged, lines over
//     1000 octets with their CRLF flagged).

private struct Decoded: Equatable {
    var output: [UInt8] = []
    var findings = DataDecoder.Findings()
    var consumed = 0
    var finished = false
}

private func decode(_ chunks: [ArraySlice<UInt8>], sizeLimit: Int) -> Decoded {
    var decoder = DataDecoder(sizeLimit: sizeLimit)
    var result = Decoded()
    for chunk in chunks {
        let used = decoder.decode(chunk, into: &result.output)
        check(used >= 0 && used <= chunk.count, "decode used \(used) of \(chunk.count) bytes")
        if result.finished { check(used == 0, "decode used \(used) bytes after finishing") }
        result.consumed += used
        result.finished = decoder.isFinished
    }
    result.findings = decoder.findings
    return result
}

/// The independent model: where the message ends and what it decodes to.
private func model(_ input: [UInt8]) -> Decoded {
    var end: Int?
    var lineStarts = [0]
    var i = 0
    // Line starts are the start and every position after CRLF; the first line start holding ".\r\n" ends it.
    while i < input.count {
        if lineStarts.last == i, i + 3 <= input.count,
           input[i] == UInt8(ascii: "."), input[i + 1] == 13, input[i + 2] == 10 {
            end = i
            break
        }
        if input[i] == 13, i + 1 < input.count, input[i + 1] == 10 { lineStarts.append(i + 2) }
        i += 1
    }
    let messageEnd = end ?? input.count
    let starts = Set(lineStarts.filter { $0 < messageEnd })
    var out: [UInt8] = []
    var lineLengths: [Int] = []  // octets of each line as emitted, the stuffing dot not counted
    var current = 0
    for index in 0..<messageEnd {
        if starts.contains(index) {
            if index > 0 { lineLengths.append(current) }
            current = 0
            if input[index] == UInt8(ascii: ".") { continue }
        }
        out.append(input[index])
        current += 1
    }
    // "." CR at a line start at the very end: the decoder holds the CR until it sees whether LF follows.
    if end == nil, let last = lineStarts.last, last == input.count - 2, input[last] == UInt8(ascii: "."), input[last + 1] == 13 {
        out.removeLast()
        current -= 1
    }
    lineLengths.append(current)

    var findings = DataDecoder.Findings()
    findings.size = out.count
    findings.sawNUL = out.contains(0)
    for (k, byte) in out.enumerated() {
        if byte == 10, k == 0 || out[k - 1] != 13 { findings.sawBareLF = true }
        if byte == 13, k + 1 < out.count, out[k + 1] != 10 { findings.sawBareCR = true }
    }
    findings.sawOverlongLine = lineLengths.contains { $0 > DataDecoder.maxLineLength }
    return Decoded(output: out, findings: findings, consumed: end.map { $0 + 3 } ?? input.count, finished: end != nil)
}

/// What DotStuffer promises on the wire: every CR, LF or CRLF becomes one CRLF, the last line ends in CRLF.
private func normalisedLines(_ input: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < input.count {
        let byte = input[i]
        if byte == 13 || byte == 10 {
            out += [13, 10]
            if byte == 13, i + 1 < input.count, input[i + 1] == 10 { i += 1 }
        } else {
            out.append(byte)
        }
        i += 1
    }
    if let last = out.last, last != 10 { out += [13, 10] }
    return out
}

private func stuff(_ chunks: [ArraySlice<UInt8>]) -> [UInt8] {
    var stuffer = DotStuffer()
    var wire: [UInt8] = []
    for chunk in chunks { stuffer.stuff(chunk, into: &wire) }
    stuffer.finish(into: &wire)
    return wire
}

private func checkStuffRoundTrip(_ message: [UInt8], chunkSizes sizes: inout ChunkSizes, cleanLines: Bool) {
    let wire = stuff([message[...]])
    check(stuff(sizes.split(message[...])) == wire, "stuffing in chunks differs from stuffing at once")
    let expected = normalisedLines(message)
    check(wire.suffix(3).elementsEqual([UInt8(ascii: "."), 13, 10]), "stuffed message does not end in .CRLF")
    if cleanLines { check(wire == stuffedByHand(message) + [UInt8(ascii: "."), 13, 10], "stuff(x) is not x with dots doubled") }

    // A terminator the next command could follow: it must be left alone.
    let next = Array("QUIT\r\n".utf8)
    for chunks in [[(wire + next)[...]], sizes.split((wire + next)[...])] {
        let decoded = decode(chunks, sizeLimit: Int.max)
        check(decoded.finished, "the decoder did not find the end of a stuffed message")
        check(decoded.consumed == wire.count, "decoder consumed \(decoded.consumed) of a \(wire.count)-byte stuffed message")
        check(decoded.output == expected, "decode(stuff(x)) != x with normalised line ends")
        check(!decoded.findings.sawBareCR && !decoded.findings.sawBareLF, "bare CR/LF found in a stuffed message")
        check(decoded.findings.size == expected.count, "size \(decoded.findings.size), expected \(expected.count)")
    }
}

/// x with a dot added to every line that starts with one, for x of CRLF-terminated lines.
private func stuffedByHand(_ x: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var atLineStart = true
    for (k, byte) in x.enumerated() {
        if atLineStart, byte == UInt8(ascii: ".") { out.append(byte) }
        out.append(byte)
        atLineStart = byte == 10 && k > 0 && x[k - 1] == 13
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let bytes = Array(input)
    var sizes = ChunkSizes(seededBy: input)

    // (a) CRLF-terminated lines built from the input.
    var lines: [UInt8] = []
    for piece in bytes.split(separator: 10, omittingEmptySubsequences: false).dropLast(bytes.last == 10 ? 1 : 0) {
        lines += piece.filter { $0 != 13 } + [13, 10]
    }
    checkStuffRoundTrip(lines, chunkSizes: &sizes, cleanLines: true)
    checkStuffRoundTrip(bytes, chunkSizes: &sizes, cleanLines: false)

    // (b) and (c) on the raw input.
    let expected = model(bytes)
    let whole = decode([bytes[...]], sizeLimit: Int.max)
    check(whole == expected, "decoder \(whole.findings), consumed \(whole.consumed), finished \(whole.finished); model \(expected.findings), consumed \(expected.consumed), finished \(expected.finished); outputs equal: \(whole.output == expected.output)")
    let pieces = decode(sizes.split(bytes[...]), sizeLimit: Int.max)
    check(pieces == whole, "decoding in chunks differs from decoding at once")

    // A size limit taken from the input: the output stops there, the size and everything else do not.
    let limit = Int(bytes.first ?? 0) * 4
    let limited = decode(sizes.split(bytes[...]), sizeLimit: limit)
    check(limited.output == Array(expected.output.prefix(limit)), "output under a \(limit)-byte limit is not the model's prefix")
    check(limited.findings.exceededSizeLimit == (expected.findings.size > limit), "exceededSizeLimit wrong for limit \(limit)")
    var unlimitedFindings = limited.findings
    unlimitedFindings.exceededSizeLimit = false
    check(unlimitedFindings == expected.findings && limited.consumed == expected.consumed && limited.finished == expected.finished,
          "a size limit changed the findings or the end")
    return 0
}

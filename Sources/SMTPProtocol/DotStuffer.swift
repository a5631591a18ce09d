/// Prepares a message for DATA towards an upstream: every line ends in CRLF (a stray CR or LF becomes CRLF,
/// as Postfix's cleanup_replace_stray_cr_lf does, so nothing can smuggle a line end), lines starting with "."
/// get another ".", and the `CRLF.CRLF` terminator is appended.
public struct DotStuffer: Sendable {
    private var atLineStart = true
    private var pendingCR = false

    public init() {}

    /// Appends the stuffed form of `chunk` to `output`; call `finish` after the last chunk.
    public mutating func stuff(_ chunk: some Collection<UInt8>, into output: inout [UInt8]) {
        if let done = chunk.withContiguousStorageIfAvailable({ stuff(bytes: $0, into: &output) }) { return done }
        Array(chunk).withUnsafeBufferPointer { stuff(bytes: $0, into: &output) }
    }

    /// Non-generic core: called across modules, a generic per-byte loop would run unspecialised.
    public mutating func stuff(bytes chunk: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        for byte in chunk {
            if pendingCR {
                pendingCR = false
                output.append(13)
                output.append(10)
                atLineStart = true
                if byte == 10 { continue }
            }
            switch byte {
            case 13:
                pendingCR = true
            case 10:
                output.append(13)
                output.append(10)
                atLineStart = true
            default:
                if atLineStart, byte == UInt8(ascii: ".") { output.append(UInt8(ascii: ".")) }
                atLineStart = false
                output.append(byte)
            }
        }
    }

    /// Ends the last line if needed and appends `.CRLF`.
    public mutating func finish(into output: inout [UInt8]) {
        if pendingCR || !atLineStart {
            output.append(contentsOf: [13, 10])
        }
        pendingCR = false
        atLineStart = true
        output.append(contentsOf: [UInt8(ascii: "."), 13, 10])
    }
}

import SMTPProtocol
import Testing

@Suite("DotStuffer")
struct DotStufferTests {
    /// (message handed to the stuffer, wire bytes after `finish`)
    static let cases: [(String, String)] = [
        ("", ".\r\n"),
        ("a", "a\r\n.\r\n"),
        ("a\r\n", "a\r\n.\r\n"),
        ("a\r\nb\r\n", "a\r\nb\r\n.\r\n"),
        ("\r\n", "\r\n.\r\n"),
        // Stray CR and LF become CRLF (Postfix cleanup_replace_stray_cr_lf).
        ("a\n", "a\r\n.\r\n"),
        ("a\r", "a\r\n.\r\n"),
        ("a\rb", "a\r\nb\r\n.\r\n"),
        ("a\nb", "a\r\nb\r\n.\r\n"),
        ("a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"),
        ("a\n\rb", "a\r\n\r\nb\r\n.\r\n"),
        ("a\n\r\nb", "a\r\n\r\nb\r\n.\r\n"),
        ("\r\r", "\r\n\r\n.\r\n"),
        ("\n\n", "\r\n\r\n.\r\n"),
        // Leading dots are doubled, other dots are not.
        (".", "..\r\n.\r\n"),
        (".\r\n", "..\r\n.\r\n"),
        ("..", "...\r\n.\r\n"),
        ("a.b.", "a.b.\r\n.\r\n"),
        ("a\r\n.b\r\n", "a\r\n..b\r\n.\r\n"),
        ("\r\n.\r\n", "\r\n..\r\n.\r\n"),
        (" .\r\n", " .\r\n.\r\n"),
        // Smuggling shapes come out as harmless stuffed lines.
        ("a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"),
        ("a\r.\rb", "a\r\n..\r\nb\r\n.\r\n"),
        ("a\r\n.\rb", "a\r\n..\r\nb\r\n.\r\n"),
        ("a\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n"),
        // Other octets pass untouched.
        ("a\0b\tc\u{E9}", "a\0b\tc\u{E9}\r\n.\r\n"),
    ]

    @Test("stuffs and terminates", arguments: cases)
    func stuffs(message: String, wire: String) {
        #expect(stuff(bytes(message)) == bytes(wire))
    }

    @Test("the split of the input into chunks does not matter", arguments: cases)
    func chunkSplitInvariance(message: String, wire: String) {
        let input = bytes(message)
        for cuts in chunkings(count: input.count, seed: 7) {
            #expect(stuff(input, cuts: cuts) == bytes(wire))
        }
    }

    @Test("a CR at the end of one chunk and LF at the start of the next is one line end")
    func crlfAcrossChunks() {
        var stuffer = DotStuffer()
        var output: [UInt8] = []
        stuffer.stuff(bytes("a\r"), into: &output)
        #expect(output == bytes("a"))  // the CR waits to see what follows
        stuffer.stuff(bytes("\n.b"), into: &output)
        #expect(output == bytes("a\r\n..b"))
        stuffer.finish(into: &output)
        #expect(output == bytes("a\r\n..b\r\n.\r\n"))
    }

    @Test("after finish the stuffer starts a fresh message")
    func reuseAfterFinish() {
        var stuffer = DotStuffer()
        var output: [UInt8] = []
        stuffer.stuff(bytes("first\r"), into: &output)
        stuffer.finish(into: &output)
        stuffer.stuff(bytes(".second"), into: &output)
        stuffer.finish(into: &output)
        #expect(output == bytes("first\r\n.\r\n..second\r\n.\r\n"))
    }

    @Test("stuff appends to what is already in the output")
    func appends() {
        var stuffer = DotStuffer()
        var output = bytes("DATA\r\n")
        stuffer.stuff(bytes(".x"), into: &output)
        stuffer.finish(into: &output)
        #expect(output == bytes("DATA\r\n..x\r\n.\r\n"))
    }

    @Test("every output line ends in CRLF and only the terminator is a lone dot", arguments: cases)
    func wireShape(message: String, wire: String) {
        let output = stuff(bytes(message))
        #expect(output.suffix(3) == bytes(".\r\n")[...])
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for (index, byte) in output.enumerated() {
            if byte == 13 { #expect(index + 1 < output.count && output[index + 1] == 10) }
            if byte == 10 {
                #expect(index > 0 && output[index - 1] == 13)
                lines.append(current)
                current = []
            } else if byte != 13 {
                current.append(byte)
            }
        }
        #expect(current.isEmpty)
        #expect(lines.filter { $0 == [UInt8(ascii: ".")] }.count == 1)
        #expect(lines.last == [UInt8(ascii: ".")])
    }
}

import SMTPProtocol
import Testing

@Suite("InputBuffer")
struct InputBufferTests {
    @Test("append, read, consume")
    func basics() {
        var buffer = InputBuffer()
        #expect(buffer.isEmpty && buffer.count == 0 && buffer.readable.isEmpty)
        buffer.append(bytes("hello "))
        buffer.append(bytes("world"))
        #expect(buffer.count == 11 && !buffer.isEmpty)
        #expect(Array(buffer.readable) == bytes("hello world"))
        buffer.consume(6)
        #expect(Array(buffer.readable) == bytes("world"))
        buffer.consume(0)
        #expect(buffer.count == 5)
        buffer.consume(5)
        #expect(buffer.isEmpty && buffer.readable.isEmpty)
        buffer.append(bytes("again"))
        #expect(Array(buffer.readable) == bytes("again"))
    }

    @Test("discardAll drops everything unread (plaintext sent before STARTTLS)")
    func discardAll() {
        var buffer = InputBuffer()
        buffer.append(bytes("STARTTLS\r\nMAIL FROM:<injected@x.example>\r\n"))
        buffer.consume(10)
        buffer.discardAll()
        #expect(buffer.isEmpty && buffer.count == 0)
        buffer.append(bytes("EHLO x\r\n"))
        #expect(Array(buffer.readable) == bytes("EHLO x\r\n"))
    }

    @Test("compaction never changes the unread bytes", arguments: [1, 1000, 40_000] as [Int])
    func compaction(step: Int) {
        var buffer = InputBuffer()
        var model: [UInt8] = []
        var rng = SplitMix64(seed: UInt64(step))
        for round in 0..<200 {
            let chunk = (0..<Int.random(in: 0...(2 * step), using: &rng)).map { UInt8(truncatingIfNeeded: round &+ $0) }
            buffer.append(chunk)
            model += chunk
            let n = Int.random(in: 0...model.count, using: &rng)
            buffer.consume(n)
            model.removeFirst(n)
            #expect(buffer.count == model.count)
            #expect(Array(buffer.readable) == model)
        }
    }

    @Test("the readable slice's indices may start anywhere; count is the unread length")
    func readableIndices() {
        var buffer = InputBuffer()
        buffer.append(bytes("abcdef"))
        buffer.consume(2)
        let readable = buffer.readable
        #expect(readable.count == 4)
        #expect(readable[readable.startIndex] == UInt8(ascii: "c"))
    }
}

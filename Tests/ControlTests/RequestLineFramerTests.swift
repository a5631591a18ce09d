@testable import Control
import Testing

@Suite("RequestLineFramer")
struct RequestLineFramerTests {
    static func events(_ chunks: [String], limit: Int = 16) -> [RequestLineFramer.Event] {
        var framer = RequestLineFramer(maximumLength: limit)
        var events: [RequestLineFramer.Event] = []
        for chunk in chunks {
            Array(chunk.utf8).withUnsafeBufferPointer { framer.append($0) }
            while let event = framer.next() { events.append(event) }
        }
        return events
    }

    static func line(_ text: String) -> RequestLineFramer.Event { .line(Array(text.utf8)) }

    @Test func splitsLinesAcrossAndWithinChunks() {
        #expect(Self.events(["a\nb", "c\r\n", "\n", "d\n"]) == [Self.line("a"), Self.line("bc"), Self.line("d")])
        #expect(Self.events(["no newline yet"]) == [])
    }

    @Test func anOverlongLineIsReportedAsSoonAsItIsTooLongAndThenSkipped() {
        #expect(Self.events(["0123456789abcdef", "g", "hij", "klm\nok\n"]) == [.tooLong, Self.line("ok")],
                "reported once, before its end arrives; the rest of it is dropped")
        #expect(Self.events(["0123456789abcdefXYZ\nok\n"]) == [.tooLong, Self.line("ok")])
        #expect(Self.events(["0123456789abcdef\n"]) == [Self.line("0123456789abcdef")], "exactly the limit is fine")
    }
}

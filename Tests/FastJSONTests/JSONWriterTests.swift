import FastJSON
import Testing

@Suite("JSONWriter")
struct JSONWriterTests {
    static func text(_ write: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        write(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func placesCommasAndKeepsOrder() {
        let json = Self.text { w in
            w.object { w in
                w.key("z"); w.int(1)
                w.key("a"); w.array { w in w.int(1); w.string("two"); w.null(); w.bool(true); w.object { _ in } }
                w.key("m"); w.object { w in w.key("x"); w.bool(false) }
                w.key("n"); w.string(nil as String?)
                w.key("e"); w.array([Int]()) { w, n in w.int(n) }
            }
        }
        #expect(json == #"{"z":1,"a":[1,"two",null,true,{}],"m":{"x":false},"n":null,"e":[]}"#)
    }

    @Test(arguments: [0, 7, -7, 1_714_564_800, Int.max, Int.min])
    func writesIntegers(number: Int) {
        #expect(Self.text { $0.int(number) } == String(number))
    }

    @Test func escapesWhatJSONRequiresAndNothingElse() throws {
        let original = "a\"b\\c\nd\re\tf\u{1}g/é😀\u{7f}"
        let json = Self.text { $0.string(original) }
        #expect(json == #""a\"b\\c\nd\re\tf\u0001g/é😀"# + "\u{7f}\"")
        #expect(!json.utf8.contains(10), "never a raw newline: a value is one line")
        #expect(try JSONParser.parse(json) == .string(original))
    }

    @Test func doublesReadBackExactly() throws {
        for number in [0.1, 1714564800.123, -2.5e-300, 1e300] {
            #expect(try JSONParser.parse(Self.text { $0.double(number) }) == .double(number))
        }
        #expect(Self.text { $0.double(.nan) } == "null")
    }

    @Test func resetStartsAFreshValue() {
        var writer = JSONWriter()
        writer.int(1)
        writer.reset()
        writer.int(2)
        #expect(writer.bytes == Array("2".utf8))
    }
}

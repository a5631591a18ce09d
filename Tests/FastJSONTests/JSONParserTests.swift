import Foundation
import FastJSON
import Testing

@Suite("JSONParser")
struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "d"}, "e": "" } "#)
        #expect(value == .object([
            ("a", .array([.int(1), .int(-2), .double(3.5), .double(1000), .bool(true), .bool(false), .null])),
            ("b", .object([("c", .string("d"))])),
            ("e", .string("")),
        ]))
    }

    @Test func keepsMemberOrder() throws {
        guard case .object(let members) = try JSONParser.parse(#"{"z":1,"a":2,"m":3}"#) else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "m"])
    }

    @Test(arguments: [
        (#""plain""#, "plain"),
        (#""quote \" backslash \\ slash \/""#, "quote \" backslash \\ slash /"),
        (#""\b\f\n\r\t""#, "\u{8}\u{c}\n\r\t"),
        (#""\u00e9\u0041""#, "éA"),
        (#""\ud83d\ude00""#, "😀"),
        ("\"raw UTF-8 é 日本\"", "raw UTF-8 é 日本"),
    ])
    func decodesStrings(json: String, expected: String) throws {
        #expect(try JSONParser.parse(json) == .string(expected))
    }

    @Test func readsLargeNumbersExactly() throws {
        #expect(try JSONParser.parse("9223372036854775807") == .int(Int.max))
        #expect(try JSONParser.parse("-9223372036854775808") == .int(Int.min))
        #expect(try JSONParser.parse("92233720368547758080") == .double(92233720368547758080))
        #expect(try JSONParser.parse("1714564800.123") == .double(1714564800.123))
        #expect(try JSONParser.parse("0") == .int(0))
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", "-", "1e", "tru", "nul",
        "\"unterminated", "\"bad \\x escape\"", "\"control \u{1} char\"", "[1] 2", "\"\\u12\"", "+1", ".5",
        #""\ud83d alone""#, #""\ude00""#, #""\ud83d\u0041""#, #""\ud83d\ud83d""#,
    ])
    func refusesInvalidText(json: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(json) }
    }

    /// Found by fuzzing (envelope target): strings with invalid UTF-8 read as U+FFFD here but failed in
    /// JSONDecoder, so a damaged spool file meant different things depending on which decoder read it.
    @Test(arguments: [[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0x61, 0x80, 0x62]] as [[UInt8]])
    func refusesInvalidUTF8InStringsAsFoundationDoes(raw: [UInt8]) throws {
        for json in [[0x22] + raw + [0x22], Array(#""a\n"#.utf8) + raw + [0x22]] {
            #expect(throws: JSONError.self) { try JSONParser.parse(json) }
            #expect(throws: (any Error).self) { try JSONDecoder().decode(String.self, from: Data(json)) }
            json.withUnsafeBufferPointer { buffer in
                var skipping = JSONReader(buffer)
                #expect(throws: JSONError.self) { try skipping.skipValue() }
                var reading = JSONReader(buffer)
                #expect(throws: JSONError.self) { try reading.readString() }
            }
            // As a member name, read by JSONReader without making a String of it.
            let object = Array(#"{"#.utf8) + json + Array(#":1}"#.utf8)
            object.withUnsafeBufferPointer { buffer in
                var reader = JSONReader(buffer)
                #expect(throws: JSONError.self) { try reader.readObject { r, _ throws(JSONError) in try r.skipValue() } }
            }
        }
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try JSONParser.parse(deep) }
        let tooDeep = String(repeating: "[", count: 100_000)
        let error = #expect(throws: JSONError.self) { try JSONParser.parse(tooDeep) }
        #expect(error?.message.contains("nested deeper") == true)
    }

    @Test func typedAccessNamesTheMember() throws {
        let value = try JSONParser.parse(#"{"ids":"x","n":1.5,"s":null}"#)
        #expect(throws: JSONError.wrongType("ids", expected: "an array", found: .string("x"))) { try value.array("ids") }
        #expect(throws: JSONError.missing("id")) { try value.string("id") }
        #expect(throws: JSONError.self) { try value.int("n") }
        #expect(try value.optionalString("s") == nil)
        #expect(try value.optionalString("absent") == nil)
        #expect("\(JSONError.wrongType("ids", expected: "an array", found: .string("x")))" == "\"ids\" must be an array, not a string")
    }
}

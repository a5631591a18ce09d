import FastJSON
import Testing

/// The reader must read what the parser reads, member by member, and refuse what the parser refuses.
@Suite("JSONReader")
struct JSONReaderTests {
    /// A small record read the way Control's decoders read theirs.
    struct Record: Equatable {
        var name: String?
        var count: Int?
        var note: String?
        var tags: [String] = []
        var inner: Int?
    }

    static func read(_ text: String) throws(JSONError) -> Record {
        let bytes = Array(text.utf8)
        let result: Result<Record, JSONError> = bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            var record = Record()
            do throws(JSONError) {
                try reader.readObject { r, key throws(JSONError) in
                    switch key {
                    case "name": record.name = try r.readString()
                    case "count": record.count = try r.readInt()
                    case "note": record.note = try r.readOptionalString()
                    case "tags": try r.readArray { r throws(JSONError) in record.tags.append(try r.readString()) }
                    case "inner":
                        try r.readObject { r, key throws(JSONError) in
                            if case "n" = key { record.inner = try r.readOptionalInt() } else { try r.skipValue() }
                        }
                    default: try r.skipValue()
                    }
                }
                try reader.finish()
                return .success(record)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    @Test func readsMembersInAnyOrderAndSkipsUnknownOnes() throws {
        let record = try Self.read(#" { "extra": {"deep": [1, {"x": null}], "s": "}"}, "skipped": "q \" \u00e9 \\", "tags": ["a", "b"], "count": -42,"#
            + #" "note": null, "inner": {"n": 7, "m": [true]}, "name": "relay" } "#)
        #expect(record == Record(name: "relay", count: -42, note: nil, tags: ["a", "b"], inner: 7))
        #expect(try Self.read(#"{"tags": [], "inner": {}}"#) == Record())
    }

    @Test func aNameWithEscapesMatchesItsUnescapedForm() throws {
        #expect(try Self.read(#"{"n\u0061me": "x", "\"count\"": 3}"#).name == "x")
        #expect(try Self.read(#"{"n\u0061me": "x", "\"count\"": 3}"#).count == nil, "a quoted name is another name")
    }

    @Test(arguments: [
        #""quote \" backslash \\ slash \/""#, #""\u00e9\ud83d\ude00""#, "\"raw UTF-8 é 日本\"", #""""#,
    ])
    func readsStringsAsTheParserDoes(json: String) throws {
        let record = try Self.read(#"{"name": "# + json + "}")
        #expect(try JSONParser.parse(json) == .string(try #require(record.name)))
    }

    @Test(arguments: [
        "", "{", #"{"name""#, #"{"name": }"#, #"{"name": "x",}"#, #"{"name": "x"} trailing"#, #"{"count": 1.5}"#,
        #"{"count": "1"}"#, #"{"name": 1}"#, #"{"tags": ["a",]}"#, #"{"name": "a"#, "{\"name\": \"a\u{1}\"}", "[]",
        #"{"name" "x"}"#, #"{"note": nul}"#, #"{"skipped": "\x"}"#, #"{"skipped": "\u12"}"#, "{\"skipped\": \"a\u{1}\"}",
        #"{"skipped": "open}"#,
    ])
    func refusesWhatIsNotTheExpectedJSON(json: String) {
        #expect(throws: JSONError.self) { try Self.read(json) }
    }

    @Test func nestingIsBoundedAsInTheParser() {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth + 1) + String(repeating: "]", count: JSONParser.maximumDepth + 1)
        #expect(throws: JSONError.self) { try Self.read(#"{"extra": "# + deep + "}") }
        let fine = String(repeating: "[", count: JSONParser.maximumDepth - 2) + String(repeating: "]", count: JSONParser.maximumDepth - 2)
        #expect(throws: Never.self) { try Self.read(#"{"extra": "# + fine + "}") }
    }
}

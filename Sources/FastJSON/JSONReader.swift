/// Reads a JSON text front to back, member by member, without building `JSONValue`s.
///
/// For values decoded by the hundred thousand (the lines of a queue listing), where building and freeing a
/// tree per line cost most of relayctl's time. Same grammar, nesting limit and UTF-8 handling as
/// `JSONParser`, whose scanner it uses.
public struct JSONReader {
    private var parser: Parser
    private var depth = 0

    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        parser = Parser(bytes: bytes)
    }

    /// A member name, matched against names in the source (`case "id":`) without making a String of it.
    public struct Key {
        /// The name as written between the quotes.
        @usableFromInline let raw: UnsafeBufferPointer<UInt8>
        /// The name with its escapes resolved, when it had any.
        @usableFromInline let unescaped: String?

        // Inlined into the decoders' `switch`es, which try every name in turn.
        @inlinable public static func ~= (name: StaticString, key: Key) -> Bool {
            let expected = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
            if let unescaped = key.unescaped { return unescaped.utf8.elementsEqual(expected) }
            guard key.raw.count == expected.count else { return false }
            for i in 0..<expected.count where key.raw[i] != expected[i] { return false }
            return true
        }
    }

    /// Reads an object: `member` is called with each name and must read or skip that member's value.
    public mutating func readObject(_ member: (inout JSONReader, Key) throws(JSONError) -> Void) throws(JSONError) {
        try readContainer(UInt8(ascii: "{"), UInt8(ascii: "}"), "an object") { r throws(JSONError) in
            let key = try r.readKey()
            try r.expect(UInt8(ascii: ":"), "':'")
            r.parser.skipWhitespace()
            try member(&r, key)
        }
    }

    /// Reads an array: `item` is called for each element and must read or skip it.
    public mutating func readArray(_ item: (inout JSONReader) throws(JSONError) -> Void) throws(JSONError) {
        try readContainer(UInt8(ascii: "["), UInt8(ascii: "]"), "an array", item)
    }

    /// `open`, elements separated by commas (each read by `element`), `close`; nesting counted and bounded.
    private mutating func readContainer(
        _ open: UInt8, _ close: UInt8, _ what: String, _ element: (inout JSONReader) throws(JSONError) -> Void
    ) throws(JSONError) {
        try expect(open, what)
        depth += 1
        guard depth <= JSONParser.maximumDepth else { throw parser.error("nested deeper than \(JSONParser.maximumDepth) levels") }
        parser.skipWhitespace()
        if next == close {
            parser.index += 1
            depth -= 1
            return
        }
        while true {
            parser.skipWhitespace()
            try element(&self)
            parser.skipWhitespace()
            switch next {
            case UInt8(ascii: ","): parser.index += 1
            case close:
                parser.index += 1
                depth -= 1
                return
            default: throw parser.error("expected ',' or '\(Character(Unicode.Scalar(close)))'")
            }
        }
    }

    public mutating func readString() throws(JSONError) -> String {
        parser.skipWhitespace()
        guard next == UInt8(ascii: "\"") else { throw parser.error("expected a string") }
        return try parser.string()
    }

    /// A string, or nil for null.
    public mutating func readOptionalString() throws(JSONError) -> String? {
        try readNull() ? nil : readString()
    }

    /// A number without fraction or exponent that fits an Int.
    public mutating func readInt() throws(JSONError) -> Int {
        parser.skipWhitespace()
        guard next == UInt8(ascii: "-") || (next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9")),
              case .int(let number) = try parser.number()
        else { throw parser.error("expected a whole number") }
        return number
    }

    /// An integer, or nil for null.
    public mutating func readOptionalInt() throws(JSONError) -> Int? {
        try readNull() ? nil : readInt()
    }

    /// Reads a value of any kind and drops it: a member the caller does not use.
    public mutating func skipValue() throws(JSONError) {
        parser.skipWhitespace()
        // Skipped strings are common (the ISO twins of a listing's times) and need no String.
        if next == UInt8(ascii: "\"") { return try parser.skipString() }
        _ = try parser.value(depth: depth)
    }

    /// Throws unless only whitespace is left.
    public mutating func finish() throws(JSONError) {
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
    }

    /// Consumes a null if one comes next.
    private mutating func readNull() throws(JSONError) -> Bool {
        parser.skipWhitespace()
        guard next == UInt8(ascii: "n") else { return false }
        try parser.literal("null")
        return true
    }

    private mutating func readKey() throws(JSONError) -> Key {
        guard next == UInt8(ascii: "\"") else { throw parser.error("expected a member name") }
        let start = parser.index + 1
        var end = start
        while end < parser.bytes.count {
            switch parser.bytes[end] {
            case UInt8(ascii: "\""):
                let raw = UnsafeBufferPointer(rebasing: parser.bytes[start..<end])
                guard Parser.isValidUTF8(raw) else { throw parser.error("invalid UTF-8 in a string") }
                parser.index = end + 1
                return Key(raw: raw, unescaped: nil)
            case UInt8(ascii: "\\"):
                return Key(raw: UnsafeBufferPointer(start: nil, count: 0), unescaped: try parser.string())
            case 0..<0x20:
                throw parser.error("control character in a string")
            default:
                end += 1
            }
        }
        throw parser.error("the text ends inside a string")
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONError) {
        parser.skipWhitespace()
        guard next == byte else { throw parser.error("expected \(what)") }
        parser.index += 1
    }

    /// The next byte, or 0 at the end of the text.
    private var next: UInt8 {
        parser.index < parser.bytes.count ? parser.bytes[parser.index] : 0
    }
}

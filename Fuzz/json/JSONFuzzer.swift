// libFuzzer target `json`: FastJSON's JSONParser, JSONReader and JSONWriter, compiled with Sources/FastJSON.
//
// Invariants:
// - arbitrary bytes never crash either reader, and parsing is deterministic;
// - whatever JSONParser accepts, JSONWriter writes as one line that parses back to an equal value (and writes
//   the same bytes again: the output is a fixed point);
// - JSONReader agrees with JSONParser: skipping the whole text as one value (and reading a top-level object or
//   array member by member) accepts exactly what the parser accepts; walking an accepted value with the typed
//   reads (readObject/readArray/readString/readInt/readOptionalString) sees the same keys, strings and integers.

private func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONError> {
    do throws(JSONError) { return .success(try JSONParser.parse(bytes)) } catch { return .failure(error) }
}

private func accepts(_ bytes: UnsafeBufferPointer<UInt8>, _ read: (inout JSONReader) throws(JSONError) -> Void) -> Bool {
    var reader = JSONReader(bytes)
    do throws(JSONError) {
        try read(&reader)
        try reader.finish()
        return true
    } catch {
        return false
    }
}

private func keyText(_ key: JSONReader.Key) -> String {
    key.unescaped ?? String(decoding: key.raw, as: UTF8.self)
}

/// Reads `value`'s text with the typed reads, checking each against the parsed value.
private func walk(_ reader: inout JSONReader, _ value: JSONValue) throws(JSONError) {
    switch value {
    case .object(let members):
        var index = 0
        try reader.readObject { r, key throws(JSONError) in
            check(index < members.count, "the reader found more members than the parser")
            check(keyText(key) == members[index].key, "member \(index): reader \(keyText(key)), parser \(members[index].key)")
            try walk(&r, members[index].value)
            index += 1
        }
        check(index == members.count, "the reader found \(index) members, the parser \(members.count)")
    case .array(let items):
        var index = 0
        try reader.readArray { r throws(JSONError) in
            check(index < items.count, "the reader found more items than the parser")
            try walk(&r, items[index])
            index += 1
        }
        check(index == items.count, "the reader found \(index) items, the parser \(items.count)")
    case .string(let text):
        let read = try reader.readString()
        check(read == text, "string: reader \(read.debugDescription), parser \(text.debugDescription)")
    case .int(let number):
        let read = try reader.readInt()
        check(read == number, "int: reader \(read), parser \(number)")
    case .null:
        let read = try reader.readOptionalString()
        check(read == nil, "null read as a string")
    case .bool, .double:
        try reader.skipValue()
    }
}

private func written(_ value: JSONValue) -> [UInt8] {
    var writer = JSONWriter()
    writer.value(value)
    return writer.bytes
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let parsed = parse(bytes)
    check(parse(bytes) == parsed, "parsing twice gave different results")

    // Skipping the text as one value accepts what the parser accepts.
    let skipped = accepts(bytes) { r throws(JSONError) in try r.skipValue() }
    check(skipped == ((try? parsed.get()) != nil), "skipValue \(skipped ? "accepts" : "rejects") what JSONParser \(skipped ? "rejects" : "accepts"): \(parsed)")

    // A top-level container read member by member (members skipped) agrees too.
    var first = 0
    while first < size, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[first]) { first += 1 }
    if first < size, bytes[first] == UInt8(ascii: "{") || bytes[first] == UInt8(ascii: "[") {
        let isObject = bytes[first] == UInt8(ascii: "{")
        let read = accepts(bytes) { r throws(JSONError) in
            if isObject { try r.readObject { r, _ throws(JSONError) in try r.skipValue() } } else { try r.readArray { r throws(JSONError) in try r.skipValue() } }
        }
        check(read == skipped, "read\(isObject ? "Object" : "Array") \(read ? "accepts" : "rejects") what skipValue \(skipped ? "accepts" : "rejects")")
    }

    guard case .success(let value) = parsed else { return 0 }

    // The typed reads see what the parser saw.
    check(accepts(bytes) { r throws(JSONError) in try walk(&r, value) }, "the typed reads refuse an accepted text")

    // Written and parsed again: equal, and written the same again.
    let text = written(value)
    check(!text.contains(10), "JSONWriter wrote a newline inside a value")
    let again = text.withUnsafeBufferPointer { parse($0) }
    guard case .success(let reparsed) = again else {
        fatalError("invariant violated: JSONWriter's output does not parse: \(again) for \(String(decoding: text.prefix(200), as: UTF8.self))")
    }
    check(reparsed == value, "written and parsed again differs: \(String(decoding: text.prefix(200), as: UTF8.self))")
    check(written(reparsed) == text, "writing is not a fixed point")
    return 0
}

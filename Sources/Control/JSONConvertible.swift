import FastJSON
import Spool

/// A protocol value with a JSON form: written with `JSONWriter`, read back from a parsed `JSONValue`.
///
/// The control channel's values are written and read by hand rather than through Codable because a queue
/// listing moves a hundred thousand entries: Foundation's coders took about 30 µs per entry here, both ends
/// together, this a small fraction of it. Writing by hand also fixes the key order the documentation shows.
public protocol JSONConvertible {
    /// Reads the value from its parsed JSON form; the error names the member that is wrong.
    init(json: JSONValue) throws(JSONError)
    /// Writes the value's JSON form.
    func write(to writer: inout JSONWriter)
}

extension JSONConvertible {
    /// The JSON text, without a newline.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        write(to: &writer)
        return writer.bytes
    }

    /// Parses and reads a JSON text.
    public init(jsonBytes bytes: [UInt8]) throws(JSONError) {
        try self.init(json: try JSONParser.parse(bytes))
    }
}

extension JSONValue {
    /// A required member holding a queue id.
    func queueID(_ key: String) throws(JSONError) -> QueueID {
        let text = try string(key)
        guard let id = QueueID(text) else { throw JSONError("\"\(key)\" is not a queue id: \(text)") }
        return id
    }

    /// A required array member of queue ids.
    func queueIDs(_ key: String) throws(JSONError) -> [QueueID] {
        var ids: [QueueID] = []
        for text in try strings(key) {
            guard let id = QueueID(text) else { throw JSONError("\"\(key)\" holds something that is not a queue id: \(text)") }
            ids.append(id)
        }
        return ids
    }

    /// A required member holding one of an enumeration's raw values.
    func oneOf<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(JSONError) -> T where T.RawValue == String {
        try Self.oneOf(try string(key), key, type)
    }

    static func oneOf<T: RawRepresentable & CaseIterable>(_ text: String, _ key: String, _ type: T.Type) throws(JSONError) -> T where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw JSONError("\"\(key)\" must be one of \(allowed), not \"\(text)\"")
        }
        return value
    }

    /// A required member holding a recipient's delivery status.
    func recipientStatus(_ key: String) throws(JSONError) -> DeliveryState.Recipient.Status {
        try Self.recipientStatus(try string(key), key)
    }

    static func recipientStatus(_ text: String, _ key: String) throws(JSONError) -> DeliveryState.Recipient.Status {
        guard let status = DeliveryState.Recipient.Status(rawValue: text) else {
            throw JSONError("\"\(key)\" must be one of \"pending\", \"deferred\", \"delivered\", \"failed\", not \"\(text)\"")
        }
        return status
    }

    /// An optional member holding a `UTCTimestamp`: nil when absent or null.
    func optionalTimestamp(_ key: String) throws(JSONError) -> Int? {
        guard let text = try optionalString(key) else { return nil }
        guard let seconds = UTCTimestamp.parse(text) else { throw JSONError("\"\(key)\" is not an ISO 8601 UTC time: \(text)") }
        return seconds
    }
}

extension JSONWriter {
    /// A `UTCTimestamp`, or null.
    mutating func timestamp(_ epochSeconds: Int?) {
        guard let epochSeconds else { return null() }
        UTCTimestamp.withText(epochSeconds) { string(utf8: $0) }
    }
}

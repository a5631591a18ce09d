/// Typed access to an object's members, throwing an error that names the member.
extension JSONValue {
    /// The object's members; throws unless this is an object.
    public func members(_ what: String = "the value") throws(JSONError) -> [(key: String, value: JSONValue)] {
        guard case .object(let members) = self else { throw JSONError("\(what) must be an object, not \(kind)") }
        return members
    }

    /// A required string member.
    public func string(_ key: String) throws(JSONError) -> String {
        guard let value = self[key] else { throw .missing(key) }
        guard case .string(let text) = value else { throw .wrongType(key, expected: "a string", found: value) }
        return text
    }

    /// An optional string member: nil when absent or null.
    public func optionalString(_ key: String) throws(JSONError) -> String? {
        guard let value = self[key], value != .null else { return nil }
        guard case .string(let text) = value else { throw .wrongType(key, expected: "a string", found: value) }
        return text
    }

    /// A required integer member (a number with a fraction is refused).
    public func int(_ key: String) throws(JSONError) -> Int {
        guard let value = self[key] else { throw .missing(key) }
        return try Self.int(value, key)
    }

    /// An optional integer member: nil when absent or null.
    public func optionalInt(_ key: String) throws(JSONError) -> Int? {
        guard let value = self[key], value != .null else { return nil }
        return try Self.int(value, key)
    }

    /// A required number member.
    public func double(_ key: String) throws(JSONError) -> Double {
        guard let value = self[key] else { throw .missing(key) }
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: throw .wrongType(key, expected: "a number", found: value)
        }
    }

    /// A required boolean member.
    public func bool(_ key: String) throws(JSONError) -> Bool {
        guard let value = self[key] else { throw .missing(key) }
        guard case .bool(let flag) = value else { throw .wrongType(key, expected: "true or false", found: value) }
        return flag
    }

    /// An optional boolean member: nil when absent or null.
    public func optionalBool(_ key: String) throws(JSONError) -> Bool? {
        guard let value = self[key], value != .null else { return nil }
        guard case .bool(let flag) = value else { throw .wrongType(key, expected: "true or false", found: value) }
        return flag
    }

    /// A required array member.
    public func array(_ key: String) throws(JSONError) -> [JSONValue] {
        guard let value = self[key] else { throw .missing(key) }
        guard case .array(let items) = value else { throw .wrongType(key, expected: "an array", found: value) }
        return items
    }

    /// An optional array member: nil when absent or null.
    public func optionalArray(_ key: String) throws(JSONError) -> [JSONValue]? {
        guard let value = self[key], value != .null else { return nil }
        guard case .array(let items) = value else { throw .wrongType(key, expected: "an array", found: value) }
        return items
    }

    /// A required object member.
    public func object(_ key: String) throws(JSONError) -> JSONValue {
        guard let value = self[key] else { throw .missing(key) }
        guard case .object = value else { throw .wrongType(key, expected: "an object", found: value) }
        return value
    }

    /// An optional object member: nil when absent or null.
    public func optionalObject(_ key: String) throws(JSONError) -> JSONValue? {
        guard let value = self[key], value != .null else { return nil }
        guard case .object = value else { throw .wrongType(key, expected: "an object", found: value) }
        return value
    }

    /// The strings of an array member's items.
    public func strings(_ key: String) throws(JSONError) -> [String] {
        var out: [String] = []
        for item in try array(key) {
            guard case .string(let text) = item else { throw .wrongType(key, expected: "an array of strings", found: item) }
            out.append(text)
        }
        return out
    }

    private static func int(_ value: JSONValue, _ key: String) throws(JSONError) -> Int {
        switch value {
        case .int(let number): return number
        case .double(let number) where number.rounded() == number && abs(number) < 9e15: return Int(number)
        default: throw .wrongType(key, expected: "a whole number", found: value)
        }
    }
}

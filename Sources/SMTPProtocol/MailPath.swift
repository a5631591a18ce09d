/// A mailbox `local-part@domain` from an SMTP path (RFC 5321 §4.1.2), UTF-8 allowed per RFC 6531.
public struct Mailbox: Sendable, Hashable, Codable, CustomStringConvertible {
    public var localPart: String
    public var domain: String

    public init(localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    public var description: String { "\(localPart)@\(domain)" }

    /// Whether any part needs SMTPUTF8 to be transmitted.
    public var requiresSMTPUTF8: Bool { !description.utf8.allSatisfy { $0 < 0x80 } }
}

/// Why a path did not parse; mapped to 501 5.1.7 (sender) or 501 5.1.3 (recipient) by the session.
public enum MailPathError: Error, Sendable, Equatable {
    case missingAngleBrackets
    case emptyLocalPart
    case missingDomain
    case invalidLocalPart
    case invalidDomain
    case tooLong
}

/// Parses the inside of `<...>` as a mailbox, ignoring an RFC 5321 source route (`@a,@b:`).
public enum MailboxParser {
    /// RFC 5321 §4.5.3.1: local part ≤ 64 octets, domain ≤ 255, path ≤ 256.
    public static let maxLocalPartLength = 64
    public static let maxDomainLength = 255
    public static let maxPathLength = 256

    public static func parse(_ text: Substring) -> Result<Mailbox, MailPathError> {
        var body = text
        if body.first == "@" {  // obsolete source route: drop up to the colon
            guard let colon = body.firstIndex(of: ":") else { return .failure(.invalidDomain) }
            body = body[body.index(after: colon)...]
        }
        guard body.utf8.count + 2 <= maxPathLength else { return .failure(.tooLong) }  // 256 includes < and >
        guard let at = atSignSeparatingDomain(body) else { return .failure(.missingDomain) }
        let local = body[..<at]
        let domain = body[body.index(after: at)...]
        guard !local.isEmpty else { return .failure(.emptyLocalPart) }
        guard local.utf8.count <= maxLocalPartLength, isValidLocalPart(local) else {
            return .failure(local.utf8.count > maxLocalPartLength ? .tooLong : .invalidLocalPart)
        }
        guard !domain.isEmpty else { return .failure(.missingDomain) }
        guard domain.utf8.count <= maxDomainLength, isValidDomain(domain) else { return .failure(.invalidDomain) }
        return .success(Mailbox(localPart: String(local), domain: String(domain)))
    }

    /// The last `@` outside a quoted local part.
    private static func atSignSeparatingDomain(_ text: Substring) -> Substring.Index? {
        var inQuotes = false
        var escaped = false
        var found: Substring.Index?
        for index in text.indices {
            let c = text[index]
            if escaped { escaped = false; continue }
            if inQuotes, c == "\\" { escaped = true; continue }
            if c == "\"" { inQuotes.toggle(); continue }
            if !inQuotes, c == "@" { found = index }
        }
        return inQuotes ? nil : found
    }

    private static func isValidLocalPart(_ local: Substring) -> Bool {
        if local.first == "\"" {
            // Quoted-string: one pair of quotes around the whole local part; inner quotes and
            // backslashes only as quoted-pairs.
            var bytes = Array(local.utf8.dropFirst())
            guard bytes.last == UInt8(ascii: "\"") else { return false }
            bytes.removeLast()
            var escaped = false
            for byte in bytes {
                if byte < 32 || byte == 127 { return false }
                if escaped { escaped = false; continue }
                if byte == UInt8(ascii: "\\") { escaped = true; continue }
                if byte == UInt8(ascii: "\"") { return false }
            }
            return !escaped
        }
        // Dot-string: atoms separated by single dots.
        if local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..") { return false }
        return local.unicodeScalars.allSatisfy { scalar in
            if scalar.value >= 0x80 { return true }  // RFC 6531 UTF-8; SMTPUTF8 is checked by the session
            return isAtext(UInt8(scalar.value)) || scalar == "."
        }
    }

    private static func isValidDomain(_ domain: Substring) -> Bool {
        if domain.first == "[" {  // address literal
            guard domain.last == "]", domain.count > 2 else { return false }
            return domain.utf8.dropFirst().dropLast().allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "]") && $0 != UInt8(ascii: "\\") }
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-" else { return false }
            return label.unicodeScalars.allSatisfy { scalar in
                scalar.value >= 0x80 || (scalar.properties.isASCIIHexDigit || ("a"..."z").contains(scalar)
                    || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-")
            }
        }
    }

    /// RFC 5322 atext.
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
        }
    }
}

/// MAIL FROM's path: a mailbox or the null sender `<>` used by bounces.
public enum ReversePath: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case mailbox(Mailbox)

    public var description: String {
        switch self {
        case .null: return "<>"
        case .mailbox(let m): return "<\(m)>"
        }
    }

    /// The address without brackets; empty for the null sender.
    public var address: String {
        switch self {
        case .null: return ""
        case .mailbox(let m): return m.description
        }
    }
}

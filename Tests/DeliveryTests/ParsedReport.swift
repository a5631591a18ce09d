import Foundation

/// A rendered bounce parsed back the way a mail client would: top-level headers (unfolded), the boundary
/// from Content-Type, and each part's headers and content. Strict on purpose: anything malformed fails.
struct ParsedReport {
    struct Part {
        var headers: [String: String]
        /// The part's content, without the CRLF that belongs to the next delimiter.
        var content: [UInt8]
        var text: String { String(decoding: content, as: UTF8.self) }
    }

    var headers: [String: String]
    var headerOrder: [String]
    var boundary: String
    var parts: [Part]

    enum Problem: Error { case noHeaderEnd, noBoundary, noClosingDelimiter }

    init(_ bytes: [UInt8]) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Problem.noHeaderEnd }
        (headers, headerOrder) = Self.fields(String(text[..<split.lowerBound]))
        guard let type = headers["content-type"], let range = type.range(of: "boundary=\"") else { throw Problem.noBoundary }
        let rest = type[range.upperBound...]
        boundary = String(rest[..<(rest.firstIndex(of: "\"") ?? rest.endIndex)])
        let body = String(text[split.upperBound...])
        guard let close = body.range(of: "\r\n--\(boundary)--\r\n"), close.upperBound == body.endIndex else {
            throw Problem.noClosingDelimiter
        }
        let chunks = body[..<close.lowerBound].components(separatedBy: "\r\n--\(boundary)\r\n").dropFirst()  // preamble
        parts = chunks.map { chunk in
            let end = chunk.range(of: "\r\n\r\n")!
            return Part(
                headers: Self.fields(String(chunk[..<end.lowerBound])).fields,
                content: Array(chunk[end.upperBound...].utf8))
        }
    }

    /// Header fields by lower-cased name, continuation lines unfolded (RFC 5322 §2.2.3).
    static func fields(_ block: String) -> (fields: [String: String], order: [String]) {
        var fields: [String: String] = [:]
        var order: [String] = []
        var last: String?
        for line in block.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), let name = last {
                fields[name, default: ""] += line
            } else if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                fields[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                order.append(name)
                last = name
            }
        }
        return (fields, order)
    }

    /// The delivery-status content as its groups of fields: the per-message group first.
    static func groups(_ content: String) -> [[String: String]] {
        content.components(separatedBy: "\r\n\r\n").map { fields($0.trimmingCharacters(in: .newlines)).fields }
    }
}

extension Array where Element == UInt8 {
    /// Every CR is followed by LF and every LF follows a CR.
    var hasOnlyCRLFLineEnds: Bool {
        indices.allSatisfy { i in
            switch self[i] {
            case 13: i + 1 < count && self[i + 1] == 10
            case 10: i > 0 && self[i - 1] == 13
            default: true
            }
        }
    }

    /// The longest line in octets, CRLF excluded.
    var longestLine: Int {
        var longest = 0
        var length = 0
        for byte in self {
            if byte == 13 || byte == 10 { length = 0; continue }
            length += 1
            longest = Swift.max(longest, length)
        }
        return longest
    }

    func contains(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

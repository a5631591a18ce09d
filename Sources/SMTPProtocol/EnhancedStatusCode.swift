/// An RFC 3463 enhanced status code such as `5.1.3`.
public struct EnhancedStatusCode: Sendable, Hashable, CustomStringConvertible {
    public var klass: Int
    public var subject: Int
    public var detail: Int

    public init(_ klass: Int, _ subject: Int, _ detail: Int) {
        self.klass = klass
        self.subject = subject
        self.detail = detail
    }

    /// Parses `x.y.z`; nil when the text is not an enhanced status code.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        // RFC 3463: class "." 1*3digit "." 1*3digit, no signs, no leading zeros.
        let wellFormed = parts.count == 3 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
                && (part.count == 1 || part.first != "0")
        }
        guard wellFormed, let k = Int(parts[0]), let s = Int(parts[1]), let d = Int(parts[2]),
              [2, 4, 5].contains(k), (0...999).contains(s), (0...999).contains(d) else { return nil }
        self.init(k, s, d)
    }

    public var description: String { "\(klass).\(subject).\(detail)" }
}

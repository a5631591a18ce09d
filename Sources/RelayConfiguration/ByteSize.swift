import FoundationEssentials

/// A byte count as operators write it: `10MiB`, `10MB`, `512KiB`, `1000` (plain bytes).
struct ByteSize: Sendable, Equatable, CustomStringConvertible {
    var bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    // Both decimal and binary units, because providers document limits in MB while
    // operators coming from Postfix think in bytes and Kubernetes users in MiB.
    private static let units: [(suffix: String, factor: Int)] = [
        ("gib", 1 << 30), ("mib", 1 << 20), ("kib", 1 << 10),
        ("gb", 1_000_000_000), ("mb", 1_000_000), ("kb", 1_000),
        ("b", 1),
    ]

    /// Parses a whole number with an optional unit (case-insensitive, space allowed before it); nil when malformed.
    init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let factor: Int
        if unit.isEmpty {
            factor = 1
        } else if let match = Self.units.first(where: { $0.suffix == unit }) {
            factor = match.factor
        } else {
            return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: factor)
        guard !overflow else { return nil }
        self.bytes = product
    }

    /// The largest binary unit that represents the size exactly, so `10MiB` prints as written.
    var description: String {
        for (suffix, factor) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes != 0 && bytes % factor == 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return "\(bytes)"
    }
}
